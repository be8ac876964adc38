"""Offers on the desk against the real ACD, and the supervisors' page: the demo as it runs.

A French-speaking customer: only Alice speaks French in the demo, so the offer comes to her
whoever else is logged in (for the first minute). Few logins: the demo allows 10 a minute."""

from __future__ import annotations

import uuid
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import DEMO_PASSWORD, log_in


def test_an_offer_shows_the_customer_first_escape_rejects_and_accepting_opens_the_chat(
    live_server: str, visitor_page: Any, agent_page: Any
) -> None:
    customer = f"tester-{uuid.uuid4().hex[:8]}"
    name = customer.replace("-", " ").title()  # as the demo shop signs it
    log_in(agent_page, live_server)
    visitor_page.goto(f"{live_server}/demo/shop?customer={customer}&lang=fr")
    visitor_page.get_by_test_id("launcher").click()
    visitor_page.get_by_test_id("composer-input").fill(f"Bonjour, {customer} ici")
    visitor_page.get_by_test_id("composer-send").click()

    # Other tests' visitors may be waiting too: this customer's offer is the one named so.
    card = agent_page.get_by_test_id("offer-card").filter(has_text=name)
    expect(card).to_have_count(1)
    expect(card.locator(".title")).to_have_text("New chat — French")
    expect(card.get_by_test_id("offer-countdown")).to_contain_text("left")
    # The screen pop, before accepting: who the customer is and where on the site. Only the
    # first offer's is open at once.
    if card.get_by_test_id("screen-pop").get_attribute("open") is None:
        card.locator("summary").click()
    expect(card.get_by_test_id("contact-panel")).to_contain_text(f"{customer}@example.com")
    expect(card.get_by_test_id("contact-panel")).to_contain_text("Boutique · Maison Relais")

    # Escape with the focus on the card rejects it; back in the queue, it comes back to Alice.
    card.focus()
    with agent_page.expect_response(lambda r: r.url.endswith("/reject")) as rejected:
        card.press("Escape")
    assert rejected.value.status == 200
    assert rejected.value.json()["state"] in ("queued", "reserved")
    expect(card).to_have_count(1)

    card.get_by_test_id("offer-accept").click()
    expect(card).to_have_count(0)
    selected = agent_page.locator("[data-testid=conversation-item][aria-current=true]")
    expect(selected).to_contain_text(name)
    expect(agent_page.locator("[data-testid=message]").filter(has_text=customer)).to_be_visible()
    agent_page.get_by_test_id("resolve").click()


def test_the_wallboard_is_for_supervisors_only(live_server: str, agent_page: Any) -> None:
    agent_page.goto(f"{live_server}/supervisor")
    agent_page.get_by_test_id("login-email").fill("bruno@relais.example")
    agent_page.get_by_test_id("login-password").fill(DEMO_PASSWORD)
    agent_page.get_by_test_id("login-submit").click()
    expect(agent_page.get_by_test_id("supervisors-only")).to_contain_text("Supervisors only")
    agent_page.get_by_role("button", name="Log out").click()

    agent_page.get_by_test_id("login-email").fill("sam@relais.example")
    agent_page.get_by_test_id("login-password").fill(DEMO_PASSWORD)
    agent_page.get_by_test_id("login-submit").click()
    expect(agent_page.get_by_role("heading", name="Relais wallboard")).to_be_visible()
    queue = agent_page.get_by_test_id("queue").first
    expect(queue.get_by_test_id("waiting")).to_contain_text("Waiting now")
    expect(queue.get_by_test_id("staffing")).to_contain_text("Agents needed for 80 % in 20 s")
    agents = agent_page.get_by_test_id("agents-table")
    expect(agents.get_by_role("row", name="Alice Durand")).to_be_visible()
    expect(agent_page.get_by_role("alert")).to_have_count(0)
