"""A visitor on the demo shop and an agent at the desk, each in a real headless Chromium."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import log_in

XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'


def _open_widget(page: Any, url: str) -> None:
    page.goto(url)
    page.get_by_test_id("launcher").click()
    expect(page.get_by_test_id("composer-input")).to_be_visible()


def _send(page: Any, text: str) -> None:
    page.get_by_test_id("composer-input").fill(text)
    page.get_by_test_id("composer-send").click()


def test_visitor_and_agent_chat_both_ways_and_nothing_is_lost_across_pages(
    live_server: str, visitor_page: Any, agent_page: Any
) -> None:
    marker = uuid.uuid4().hex[:8]
    log_in(agent_page, live_server)
    _open_widget(visitor_page, f"{live_server}/demo/shop")
    _send(visitor_page, f"Hello {marker}, where is my order?")

    item = agent_page.get_by_test_id("conversation-item").filter(has_text=marker)
    expect(item).to_be_visible()
    item.click()
    expect(agent_page.get_by_test_id("contact-panel")).to_contain_text("Shop")
    # Alice reads the waiting chat at once, and answers it once she has taken the queue's offer.
    expect(agent_page.get_by_test_id("composer-input")).to_have_count(0)
    expect(agent_page.get_by_test_id("in-queue")).to_contain_text("accept it to answer")
    conversation_id = item.get_attribute("data-conversation-id")
    offer = agent_page.locator(
        f"[data-testid=offer-card][data-conversation-id='{conversation_id}']"
    )
    offer.get_by_test_id("offer-accept").click()
    expect(agent_page.get_by_test_id("in-queue")).to_have_count(0)

    # Typing shows on the other side.
    visitor_page.get_by_test_id("composer-input").press_sequentially("still th", delay=30)
    expect(agent_page.get_by_test_id("typing")).to_contain_text("typing")

    _send(agent_page, "Hello! It left yesterday, **arriving tomorrow**.")
    reply = visitor_page.locator("[data-testid=message][data-author-kind=agent]").filter(
        has_text="arriving tomorrow"
    )
    expect(reply).to_be_visible()
    expect(reply.locator("strong")).to_have_text("arriving tomorrow")
    # The agent has the conversation open: the visitor sees the read receipt.
    expect(visitor_page.get_by_test_id("read-receipt")).to_be_visible()

    # A hostile message is shown as text on both sides and runs nowhere.
    _send(visitor_page, XSS)
    shown = agent_page.locator("[data-testid=message][data-author-kind=visitor]").filter(
        has_text="onerror"
    )
    expect(shown).to_contain_text('<img src=x onerror="window.__xss=1">')
    expect(
        visitor_page.locator("[data-testid=message][data-author-kind=visitor]").filter(
            has_text="onerror"
        )
    ).to_be_visible()
    assert agent_page.evaluate("window.__xss") is None
    assert visitor_page.evaluate("window.__xss") is None

    # The visitor goes on to the cart: the conversation follows, nothing lost or doubled.
    before = visitor_page.get_by_test_id("message").count()
    visitor_page.goto(f"{live_server}/demo/shop/cart")
    expect(visitor_page.get_by_test_id("message")).to_have_count(before)
    expect(agent_page.get_by_test_id("contact-panel")).to_contain_text("Cart")
    # A single-page site changes pages by history.pushState: the agent sees those too.
    visitor_page.evaluate(
        "document.title = 'Order 42'; history.pushState({}, '', '/demo/shop/cart#order-42')"
    )
    expect(agent_page.get_by_test_id("contact-panel")).to_contain_text("Order 42")
    visitor_page.reload()
    expect(visitor_page.get_by_test_id("message")).to_have_count(before)
    _send(visitor_page, f"Thanks {marker} from the cart")
    expect(
        agent_page.locator("[data-testid=message]").filter(has_text="from the cart")
    ).to_be_visible()

    # The agent resolves; the visitor rates and asks for the transcript.
    agent_page.get_by_test_id("resolve").click()
    rating = visitor_page.get_by_test_id("rating")
    expect(rating).to_be_visible()
    visitor_page.reload()  # the ended conversation stays, to be rated
    expect(rating).to_be_visible()
    rating.get_by_role("radio", name="4 out of 5").click()
    expect(rating).to_contain_text("Thank you for your rating")
    visitor_page.get_by_test_id("transcript-email").fill("visitor@example.com")
    visitor_page.get_by_test_id("transcript-email").press("Enter")
    expect(rating).to_contain_text("transcript will be sent")
    agent_page.get_by_role("button", name="Log out").click()


def test_offline_form_when_nobody_is_available(
    live_server: str, visitor_page: Any, nobody_available: None
) -> None:
    visitor_page.goto(f"{live_server}/demo/shop")
    visitor_page.get_by_test_id("launcher").click()
    form = visitor_page.get_by_test_id("offline-form")
    expect(form).to_be_visible()
    form.get_by_label("Your name").fill("Eve")
    form.get_by_label("Your e-mail address").fill("eve@example.com")
    form.get_by_label("Your message").fill("Please call me back about my order.")
    form.get_by_role("button", name="Send the message").click()
    expect(visitor_page.get_by_role("status")).to_contain_text("We will answer you by e-mail")


def test_widget_speaks_french_and_fills_a_phone_screen(live_server: str, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 640}, is_mobile=True)
    page = context.new_page()
    page.goto(f"{live_server}/demo/shop?lang=fr")
    page.get_by_test_id("launcher").click()
    panel = page.get_by_role("dialog")
    expect(panel).to_contain_text("Service client")
    box = panel.bounding_box()
    assert box is not None and box["width"] == 360 and box["height"] == 640
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    context.close()


def test_a_lost_frame_and_a_dropped_connection_lose_no_message_and_double_none(
    live_server: str, visitor_page: Any, agent_page: Any
) -> None:
    """The visitor's WebSocket goes through a relay that can lose one frame either way."""
    marker = uuid.uuid4().hex[:8]
    sockets: list[Any] = []
    lose = {"to_server": "", "to_page": ""}  # lose the next frame of this type

    def relay(ws: Any) -> None:
        server = ws.connect_to_server()

        def to_server(text: str | bytes) -> None:
            if lose["to_server"] and json.loads(text)["type"] == lose["to_server"]:
                lose["to_server"] = ""
                return
            server.send(text)

        def to_page(text: str | bytes) -> None:
            kind = json.loads(text)["type"]
            if lose["to_page"] and kind in ("ack", "message") and lose["to_page"] in str(text):
                lose["to_page"] = ""  # the first of the ack and the echo: the other makes a gap
                return
            ws.send(text)

        ws.on_message(to_server)
        server.on_message(to_page)
        sockets.append(ws)

    visitor_page.route_web_socket(re.compile(r"/ws$"), relay)
    log_in(agent_page, live_server)
    _open_widget(visitor_page, f"{live_server}/demo/shop")
    _send(visitor_page, f"one {marker}")
    item = agent_page.get_by_test_id("conversation-item").filter(has_text=marker)
    expect(item).to_be_visible()
    item.click()

    def on_both_sides_once(text: str) -> None:
        for page in (visitor_page, agent_page):
            shown = page.get_by_test_id("message").filter(has_text=text)
            expect(shown).to_have_count(1)
            expect(shown).to_have_attribute("data-state", "sent")

    # A frame from the server is lost: the visitor sees the gap, reconnects and resumes.
    lose["to_page"] = f"two {marker}"
    _send(visitor_page, f"two {marker}")
    on_both_sides_once(f"two {marker}")
    assert len(sockets) == 2

    # The connection dies with a message on its way: shown as sending, sent once afterwards.
    lose["to_server"] = "send"
    _send(visitor_page, f"three {marker}")
    waiting = visitor_page.get_by_test_id("message").filter(has_text=f"three {marker}")
    expect(waiting).to_have_attribute("data-state", "pending")
    sockets[-1].close(code=4000, reason="test")
    on_both_sides_once(f"three {marker}")
    assert len(sockets) == 3

    # The agent reloads the desk: the session, the conversation and its messages come back.
    agent_page.reload()
    expect(agent_page.get_by_test_id("conversation-item").filter(has_text=marker)).to_be_visible()
    agent_page.get_by_test_id("conversation-item").filter(has_text=marker).click()
    expect(agent_page.get_by_test_id("message").filter(has_text=marker)).to_have_count(3)
    agent_page.get_by_role("button", name="Log out").click()


HOSTILE_PAGE = """<!doctype html><html lang="en"><head><title>A hostile site</title>
<style>* { all: unset; } body { font-family: monospace !important; }
button, textarea { display: none !important; }</style></head>
<body><p>Some other site.</p><script src="/widget.js" async></script></body></html>"""


def test_the_host_pages_css_cannot_unplace_or_restyle_the_widget(
    live_server: str, visitor_page: Any
) -> None:
    visitor_page.route(
        f"{live_server}/hostile",
        lambda route: route.fulfill(content_type="text/html", body=HOSTILE_PAGE),
    )
    visitor_page.goto(f"{live_server}/hostile")
    launcher = visitor_page.get_by_test_id("launcher")
    launcher.click()
    panel = visitor_page.get_by_role("dialog")
    expect(panel).to_be_visible()  # the chat or the offline form, as agents are on or off
    box = launcher.bounding_box()
    assert box is not None and box["x"] + box["width"] > 1200 and box["y"] + box["height"] > 740
    heading = panel.get_by_role("heading")
    assert "monospace" not in heading.evaluate("e => getComputedStyle(e).fontFamily")
    assert panel.get_by_role("button", name="Close").is_visible()

    # The host page's own handle on the widget.
    visitor_page.evaluate("window.Relais.close()")
    expect(panel).to_be_hidden()
    visitor_page.evaluate("window.Relais.open()")
    expect(panel).to_be_visible()
