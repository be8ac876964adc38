"""A visitor asks to be called back in a slot; when the slot opens an agent is offered it, calls
(the tel: link), records "no answer"; it comes back after the retry delay and the next call
reaches the visitor. Two browser contexts against a real server.

The server runs in its own thread with its own event loop (Playwright's sync API owns this
thread's), so that the test can move the routing engine's clock to the slot's start instead of
waiting up to half an hour for it."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import LiveServer, make_settings, need
from tests.helpers import PASSWORD, seed_agents

RETRY_S = 3
SHOTS = Path(__file__).parent.parent.parent / "var" / "screenshots"


class MovableClock:
    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def move_to(self, at: datetime) -> None:
        self.offset = max(self.offset, at.timestamp() - time.time())


class ServerThread:
    """LiveServer in a thread of its own; stopped (and joined) on exit."""

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self.clock = MovableClock()
        self.base = settings.public_url
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="relais-server", daemon=True)

    def __enter__(self) -> ServerThread:
        self._thread.start()
        if not self._ready.wait(60):
            raise RuntimeError("the server did not start")
        if self._error is not None:
            raise self._error
        return self

    def __exit__(self, *_: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported to the test thread
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        from relais.migrate import upgrade

        # Here, not in a fixture: Playwright's loop runs in the test's thread, and migrations
        # run one of their own.
        await asyncio.to_thread(upgrade, self.settings.database_url)
        await seed_agents(self.settings)
        server = LiveServer(self.settings)
        await server.start()
        server.runtime.leader.clock = self.clock
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await server.stop()


@pytest.fixture
def relais(tmp_path: Path) -> Iterator[ServerThread]:
    dist = Path(__file__).parent.parent.parent / "src/relais/web/static/dist/widget.js"
    need(dist.exists(), "the front-end is not built (make build)")
    settings = make_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'relais.db'}",
        tmp_path,
        routing={"auto_accept": False, "reservation_timeout_s": 60},
        callback={"retry_delay_s": RETRY_S, "max_attempts": 3},
    )
    with ServerThread(settings) as server:
        yield server


def desk_login(page: Any, base: str) -> None:
    page.goto(f"{base}/desk")
    page.get_by_test_id("login-email").fill("alice@test.example")
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("presence")).to_have_value("available")


def test_a_callback_booked_in_a_slot_is_offered_when_it_opens_retried_after_no_answer_and_reached(
    browser: Any, relais: ServerThread
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    visitor_ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB")
    agent_ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB")
    try:
        visitor, agent = visitor_ctx.new_page(), agent_ctx.new_page()
        for page in (visitor, agent):
            page.on("pageerror", lambda e: errors.append(str(e)))
        desk_login(agent, relais.base)

        # The shop's own button opens the widget on its callback form.
        visitor.goto(f"{relais.base}/demo/shop/cart")
        visitor.locator("button[data-relais-callback]").click()
        form = visitor.get_by_test_id("callback-form")
        expect(form).to_be_visible()
        expect(visitor.get_by_test_id("callback-number")).to_be_focused()
        visitor.get_by_test_id("callback-number").fill("06 12 34 56 78")
        visitor.get_by_test_id("callback-reason").fill("Delivery of order 1234")
        visitor.get_by_test_id("callback-at-time").check()
        slot_start = datetime.fromisoformat(visitor.get_by_test_id("callback-slot").input_value())
        visitor.get_by_test_id("callback-consent").check()
        visitor.screenshot(path=SHOTS / "callback-form.png")
        visitor.get_by_test_id("callback-submit").click()

        status = visitor.get_by_test_id("callback-status")
        expect(status).to_contain_text("We will call you on +33 6 12 34 56 78 on")
        visitor.screenshot(path=SHOTS / "callback-booked.png")

        # Nothing for the agent until the slot opens; then the offer, with the number.
        time.sleep(1.5)  # a negative: the engine steps at least once a second
        expect(agent.get_by_test_id("offer-card")).to_have_count(0)
        relais.clock.move_to(slot_start)
        card = agent.get_by_test_id("offer-card")
        expect(card.locator(".title")).to_contain_text("New callback")
        expect(card.get_by_test_id("offer-attributes")).to_contain_text("+33612345678")
        expect(card.get_by_test_id("offer-attributes")).to_contain_text("Delivery of order 1234")
        card.get_by_test_id("offer-accept").click()

        panel = agent.get_by_test_id("callback-panel")
        call = panel.get_by_test_id("callback-call")
        expect(call).to_have_attribute("href", "tel:+33612345678")
        expect(call).to_have_text("Call +33 6 12 34 56 78")
        expect(panel.get_by_test_id("callback-attempt")).to_have_text("Call 1 of 3")
        expect(status).to_contain_text("An agent is calling you now")
        agent.screenshot(path=SHOTS / "desk-callback.png")
        panel.get_by_test_id("outcome-no_answer").click()

        expect(panel).to_have_count(0)
        expect(status).to_contain_text("We couldn't reach you. We will try again around")
        expect(status).to_contain_text("(call 2 of 3)")
        left_at = time.monotonic()
        expect(agent.get_by_test_id("offer-card")).to_have_count(1, timeout=(RETRY_S + 8) * 1000)
        assert time.monotonic() - left_at >= RETRY_S - 1, "back only after the retry delay"
        agent.get_by_test_id("offer-card").get_by_test_id("offer-accept").click()
        expect(panel.get_by_test_id("callback-attempt")).to_have_text("Call 2 of 3")
        expect(panel).to_contain_text("No answer")  # the earlier attempt
        agent.screenshot(path=SHOTS / "desk-callback-second.png")
        panel.get_by_test_id("outcome-reached").click()

        expect(panel).to_have_count(0)
        expect(status).to_contain_text("Thank you: we have called you.")
        visitor.screenshot(path=SHOTS / "callback-done.png")
    finally:
        visitor_ctx.close()
        agent_ctx.close()
    assert not errors, f"the pages raised: {errors}"


def test_the_callback_form_speaks_french_and_fits_a_phone(
    browser: Any, relais: ServerThread
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR")
    try:
        page = context.new_page()
        page.goto(f"{relais.base}/demo/shop?lang=fr")
        expect(page.locator("button[data-relais-callback]")).to_have_text("Être rappelé")
        page.locator("button[data-relais-callback]").click()
        form = page.get_by_test_id("callback-form")
        expect(form).to_contain_text("Demander à être rappelé")
        expect(page.get_by_label("Votre numéro de téléphone")).to_be_focused()
        # Keyboard only: the number, the reason, the time, the consent, the button.
        page.keyboard.type("+33 8 99 12 34 56")
        page.keyboard.press("Tab")
        page.keyboard.type("Facture")
        page.get_by_test_id("callback-consent").check()
        page.screenshot(path=SHOTS / "callback-form-phone-fr.png")
        box = form.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
        page.get_by_test_id("callback-submit").click()
        expect(page.get_by_test_id("callback-error")).to_have_text(
            "Ce numéro ne peut pas être rappelé."
        )
        expect(page.get_by_test_id("callback-number")).to_have_attribute("aria-invalid", "true")
    finally:
        context.close()


def test_the_visitor_finds_its_callback_on_another_page_changes_the_time_and_cancels(
    browser: Any, relais: ServerThread
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB")
    try:
        page = context.new_page()
        page.goto(f"{relais.base}/demo/shop")
        page.locator("button[data-relais-callback]").click()
        page.get_by_test_id("callback-number").fill("+44 20 7946 0958")
        page.get_by_test_id("callback-at-time").check()
        page.get_by_test_id("callback-consent").check()
        page.get_by_test_id("callback-submit").click()
        status = page.get_by_test_id("callback-status")
        expect(status).to_contain_text("We will call you on +442079460958 on")

        # Another page of the site: the widget knows the request, from the chat too.
        page.goto(f"{relais.base}/demo/shop/checkout")
        expect(page.get_by_test_id("launcher")).to_have_attribute("aria-expanded", "true")
        note = page.get_by_test_id("callback-note")
        expect(note).to_contain_text("Ask to be called back")
        note.get_by_role("button").click()
        booked = status.inner_text()

        page.get_by_test_id("callback-change").click()
        page.get_by_test_id("callback-at-time").check()
        slots = page.get_by_test_id("callback-slot").locator("option")
        later = slots.nth(1).get_attribute("value")
        page.get_by_test_id("callback-slot").select_option(later)
        page.get_by_test_id("callback-submit").click()
        expect(status).not_to_have_text(booked)
        expect(status).to_contain_text("We will call you on +442079460958 on")

        page.get_by_test_id("callback-cancel").click()
        expect(status).to_have_text("Your callback request is cancelled.")
        page.get_by_test_id("callback-new").click()
        expect(page.get_by_test_id("callback-form")).to_be_visible()
        page.get_by_test_id("callback-back").click()
        expect(
            page.get_by_test_id("offline-form")
        ).to_be_visible()  # nobody online: the chat's own form
    finally:
        context.close()
