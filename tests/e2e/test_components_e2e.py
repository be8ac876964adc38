"""The shared components alone, in a real Chromium: the conversation view and the composer.

They come from the built desk bundle (which defines them) on an empty page of the live server;
properties are set from the test as the widget and the desk set them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

PAGE = """<!doctype html><html lang="en"><head><title>components</title></head><body>
<relais-conversation-view style="display:flex;flex-direction:column;height:400px;width:500px">
</relais-conversation-view>
<relais-composer style="width:500px"></relais-composer>
<script src="/static/dist/desk.js"></script></body></html>"""

XSS = '<img src=x onerror="window.__xss=1">'


def _message(
    seq: int, kind: str, body: str, html: str | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "id": f"m{seq}",
        "conversation_id": "c1",
        "seq": seq,
        "client_id": f"client-{seq}",
        "author_kind": kind,
        "author_id": None,
        "author_name": {"agent": "Alice", "visitor": "Claire"}.get(kind),
        "body": body,
        "html": f"<p>{body}</p>" if html is None else html,
        "attachments": [],
        "created_at": "2026-01-01T00:00:00Z",
        "state": "sent",
        **extra,
    }


@pytest.fixture
def page(browser: Any, live_server: str) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 800, "height": 700})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.route(
        f"{live_server}/component-test",
        lambda route: route.fulfill(content_type="text/html", body=PAGE),
    )
    page.goto(f"{live_server}/component-test")
    page.wait_for_function("customElements.get('relais-composer') !== undefined")
    yield page
    context.close()
    assert not errors, f"the page raised: {errors}"


def test_conversation_view_renders_only_the_server_html_as_html(page: Any) -> None:
    attachment = {
        "id": "a1",
        "filename": "receipt.pdf",
        "content_type": "application/pdf",
        "size": 2048,
        "url": "/api/v1/attachments/a1",
    }
    messages = [
        _message(1, "system", "Alice joined the conversation."),
        _message(2, "visitor", "Hello **there**", "<p>Hello <strong>there</strong></p>"),
        _message(3, "agent", "Here", attachments=[attachment]),
        _message(4, "visitor", "Seen by the agent"),
        _message(5, "visitor", "Not yet seen"),
        # Not stored yet: no html from the server, so the body is shown as text.
        {**_message(9, "visitor", XSS, html=""), "state": "pending", "client_id": "p1"},
        {**_message(10, "visitor", "Refused", html=""), "state": "failed", "client_id": "p2"},
    ]
    page.evaluate(
        """m => { const v = document.querySelector('relais-conversation-view');
        v.me = 'visitor'; v.otherReadSeq = 4; v.typingName = 'Alice'; v.messages = m; }""",
        messages,
    )
    rows = page.get_by_test_id("message")
    expect(rows).to_have_count(7)
    expect(rows.nth(1).locator("strong")).to_have_text("there")
    expect(rows.nth(5)).to_contain_text(XSS)
    assert page.evaluate("window.__xss") is None
    expect(rows.nth(5)).to_have_attribute("data-state", "pending")

    # Own messages right, the other side's left, system notes centred.
    def x(i: int) -> float:
        box = rows.nth(i).locator(".bubble").bounding_box()
        assert box is not None
        return float(box["x"] + box["width"] / 2)

    assert x(1) > 250 > x(2)
    assert abs(x(0) - 250) < 40

    receipt = page.get_by_test_id("read-receipt")
    expect(receipt).to_have_count(1)
    expect(rows.nth(3).get_by_test_id("read-receipt")).to_have_text("Seen")
    expect(page.get_by_test_id("typing")).to_have_text("Alice is typing…")
    expect(page.get_by_role("log")).to_have_attribute("aria-live", "polite")

    link = page.get_by_role("link", name="receipt.pdf")
    expect(link).to_have_attribute("download", "receipt.pdf")
    expect(link).to_have_attribute("href", "/api/v1/attachments/a1")

    page.evaluate(
        """() => document.querySelector('relais-conversation-view').addEventListener(
        'relais-retry', e => { window.__retry = e.detail.clientId; })"""
    )
    rows.nth(6).get_by_role("button", name="Retry").click()
    assert page.evaluate("window.__retry") == "p2"


def test_composer_sends_on_enter_keeps_shift_enter_and_tells_typing(page: Any) -> None:
    page.evaluate(
        """() => { window.__events = [];
        const c = document.querySelector('relais-composer');
        for (const t of ['relais-send', 'relais-typing'])
          c.addEventListener(t, e => window.__events.push([t, e.detail])); }"""
    )
    box = page.get_by_test_id("composer-input")
    send = page.get_by_test_id("composer-send")
    expect(send).to_be_disabled()
    box.press_sequentially("line one")
    box.press("Shift+Enter")
    box.press_sequentially("line two")
    expect(page.locator("relais-composer .count")).to_have_text("17 / 4000")
    box.press("Enter")
    expect(box).to_have_value("")
    events = page.evaluate("window.__events")
    sends = [d for t, d in events if t == "relais-send"]
    typing = [d["typing"] for t, d in events if t == "relais-typing"]
    assert sends == [{"body": "line one\nline two", "files": []}]
    assert typing == [True, False]  # throttled: one start, one stop

    box.fill("x" * 4001)
    expect(send).to_be_disabled()
    expect(page.get_by_role("alert")).to_have_text("4001 / 4000")
