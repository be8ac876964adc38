"""E-mail in the agent's desk, end to end against real servers: a customer's mail arrives over
SMTP (an aiosmtplib client into Relais's listener), shows in the desk with its subject and its
quoted history folded; the agent answers (from a suggested answer, edited) and sends; a real
SMTP server started here receives the answer with In-Reply-To and the `[#n]` subject.

Screenshots of the desk with an e-mail conversation, at a laptop's width and a phone's, in
English and French, go to var/screenshots/."""

from __future__ import annotations

import asyncio
import email.message
import email.utils
import re
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.policy import SMTP as SMTP_POLICY
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from playwright.sync_api import expect

from relais.channels.email.parse import ParsedMail, parse_message
from tests.conftest import free_port, need
from tests.e2e.conftest import log_in
from tests.e2e.test_callback_e2e import ServerThread, desk_login
from tests.helpers import PASSWORD
from tests.integration.mail_helpers import SUPPORT, mail_settings

SHOTS = Path(__file__).parent.parent.parent / "var" / "screenshots"
CUSTOMER = "claire@client.example"
OTHER = "paul@client.example"


@dataclass
class Sink:
    """A real SMTP server (aiosmtpd, in its own thread) keeping every mail it is given."""

    received: list[ParsedMail] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.received.append(parse_message(envelope.original_content or b""))
        return "250 OK"

    def wait(self, predicate: Callable[[ParsedMail], bool], timeout: float = 15) -> ParsedMail:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            found = [m for m in self.received if predicate(m)]
            if found:
                return found[0]
            time.sleep(0.1)
        raise AssertionError(f"not received; got {[m.subject for m in self.received]}")


@dataclass
class Relais:
    server: ServerThread
    listen: int
    sink: Sink

    @property
    def base(self) -> str:
        return str(self.server.base)

    def deliver(self, raw: bytes, sender: str = CUSTOMER) -> None:
        """The customer's mail server hands a mail to Relais's listener (SMTP)."""

        async def send() -> None:
            await aiosmtplib.send(
                raw, sender=sender, recipients=[SUPPORT], hostname="127.0.0.1", port=self.listen
            )

        # Playwright's sync API holds this thread's event loop: the client runs in another.
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, send()).result(timeout=20)


@pytest.fixture
def relais(tmp_path: Path) -> Iterator[Relais]:
    dist = Path(__file__).parent.parent.parent / "src/relais/web/static/dist/desk.js"
    need(dist.exists(), "the front-end is not built (make build)")
    sink = Sink()
    relay = Controller(sink, hostname="127.0.0.1", port=free_port())
    relay.start()
    listen = free_port()
    settings = mail_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'relais.db'}",
        tmp_path,
        listen=f"127.0.0.1:{listen}",
        smtp_host="127.0.0.1",
        smtp_port=relay.port,
        smtp_tls="none",
        outbox_poll_s=0.2,
        retry_base_s=0.2,
        retry_max_s=0.5,
    )
    try:
        with ServerThread(settings) as server:
            yield Relais(server, listen, sink)
    finally:
        relay.stop()


def customer_mail(
    subject: str,
    text: str,
    *,
    message_id: str | None = None,
    sender: str = f"Claire Martin <{CUSTOMER}>",
) -> bytes:
    message = email.message.EmailMessage(policy=SMTP_POLICY)
    message["From"] = sender
    message["To"] = SUPPORT
    message["Subject"] = subject
    message["Date"] = email.utils.formatdate(localtime=False)
    message["Message-ID"] = message_id or f"<{uuid.uuid4().hex}@client.example>"
    message.set_content(text)
    return message.as_bytes()


QUESTION = """Bonjour,

Mon colis 1042 n'est toujours pas arrivé, alors que le suivi le disait livré hier.
Pouvez-vous vérifier ?

Claire

Le 2 mars 2026 à 10:00, Maison Relais <support@relais.example> a écrit :
> Bonjour Claire,
>
> Votre colis 1042 est parti ce matin, il arrivera sous trois jours.
>
> Bruno, Maison Relais
"""


SIMILAR = """Bonjour,

Mon colis 2077 n'est pas arrivé, alors que le suivi indique qu'il a été livré.
Pouvez-vous vérifier auprès du transporteur ?

Paul
"""


def test_a_mail_over_smtp_is_answered_from_the_desk_and_the_answer_leaves_threaded(
    browser: Any, relais: Relais
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB")
    try:
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        desk_login(page, relais.base)

        first_id = f"<{uuid.uuid4().hex}@client.example>"
        start = time.perf_counter()
        relais.deliver(customer_mail("Colis 1042 jamais arrivé", QUESTION, message_id=first_id))

        # Listed by its subject, with the e-mail icon; handed to Alice (the queue auto-accepts).
        item = page.locator("[data-testid=conversation-item][data-channel=email]")
        expect(item.get_by_test_id("conversation-subject")).to_have_text("Colis 1042 jamais arrivé")
        arrived = time.perf_counter() - start
        channel = item.get_by_test_id("conversation-channel")
        expect(channel).to_have_attribute("aria-label", "E-mail")
        item.click()

        mail = page.get_by_test_id("mail")
        expect(page.get_by_test_id("mail-subject")).to_have_text("Colis 1042 jamais arrivé")
        reference = page.get_by_test_id("mail-reference")
        expect(reference).to_have_text(re.compile(r"^\[#\d+\]$"))
        number = reference.inner_text()
        expect(mail.locator(".from")).to_have_text(f"Claire Martin <{CUSTOMER}>")
        expect(mail.get_by_test_id("mail-to")).to_have_text(f"To {SUPPORT}")
        expect(mail.locator(".body")).to_contain_text("Mon colis 1042 n'est toujours pas arrivé")
        # The quoted history is there, folded, until the agent asks for it.
        quoted = mail.locator("details.relais-quoted")
        expect(quoted).to_be_hidden()
        toggle = mail.get_by_test_id("toggle-quoted")
        expect(toggle).to_have_text("Show quoted text")
        toggle.click()
        expect(quoted).to_be_visible()
        expect(quoted).to_contain_text("Votre colis 1042 est parti ce matin")
        toggle.click()
        expect(quoted).to_be_hidden()

        expect(page.get_by_test_id("mail-reply-to")).to_have_text(
            f"Reply by e-mail to Claire Martin <{CUSTOMER}>"
        )
        subject = f"Re: {number} Colis 1042 jamais arrivé"
        expect(page.get_by_test_id("mail-reply-subject")).to_have_text(subject)
        expect(page.get_by_test_id("suggestions")).to_be_visible()
        page.screenshot(path=SHOTS / "desk-email.png")

        # The answer: typed (Enter makes a new line in an e-mail), sent with Ctrl+Enter.
        box = page.get_by_test_id("composer-input")
        box.click()
        box.press_sequentially("Bonjour Claire,")
        box.press("Enter")
        box.press_sequentially("nous ouvrons une enquête auprès du transporteur.")
        expect(box).to_have_value(
            "Bonjour Claire,\nnous ouvrons une enquête auprès du transporteur."
        )
        start = time.perf_counter()
        box.press("Control+Enter")
        expect(box).to_have_value("")

        answer = relais.sink.wait(lambda m: m.subject.startswith("Re: "))
        # The figures this test measures: one sample each, upper bounds (Playwright's checks and
        # the sink's are polled).
        print(
            f"\nmail over SMTP to its subject in the desk: {arrived * 1000:.0f} ms; "
            f"Ctrl+Enter to the answer at the relay: {(time.perf_counter() - start) * 1000:.0f} ms"
        )
        assert answer.subject == subject
        assert answer.in_reply_to == first_id
        assert answer.to and answer.to[0].address == CUSTOMER
        assert "nous ouvrons une enquête" in answer.text
        sent = page.locator("[data-testid=mail-state][data-state=sent]")
        expect(sent).to_have_text("Sent")
        page.screenshot(path=SHOTS / "desk-email-sent.png")
        page.get_by_test_id("resolve").click()

        # Another customer asks much the same: the answer above is suggested; the agent picks
        # it, edits it, sends it.
        second_id = f"<{uuid.uuid4().hex}@client.example>"
        relais.deliver(
            customer_mail("Colis 2077 pas reçu", SIMILAR, message_id=second_id,
                          sender=f"Paul Durand <{OTHER}>"),
            sender=OTHER,
        )  # fmt: skip
        page.locator("[data-testid=conversation-item]").filter(has_text="Colis 2077").click()
        expect(page.get_by_test_id("mail-subject")).to_have_text("Colis 2077 pas reçu")
        expect(page.get_by_test_id("mail-reply-to")).to_contain_text(OTHER)
        suggestion = page.get_by_test_id("suggestion").first
        expect(suggestion).to_contain_text("nous ouvrons une enquête auprès du transporteur")
        expect(suggestion).to_contain_text("Past answer")
        page.screenshot(path=SHOTS / "desk-email-suggestion.png")
        suggestion.click()
        expect(box).to_be_focused()
        expect(box).to_have_value(
            "Bonjour Claire,\nnous ouvrons une enquête auprès du transporteur."
        )
        # A pick sends nothing: no answer shows (an answer shows at once, even before it is stored).
        expect(page.get_by_test_id("mail")).to_have_count(1)
        box.press("Control+Home")
        box.press("Shift+End")
        box.press_sequentially("Bonjour Paul,")
        box.press("Control+Enter")
        second = relais.sink.wait(
            lambda m: m.subject.startswith("Re: ") and m.in_reply_to == second_id
        )
        assert re.fullmatch(r"Re: \[#\d+\] Colis 2077 pas reçu", second.subject), second.subject
        assert second.subject != subject
        assert second.to and second.to[0].address == OTHER
        assert second.text.startswith("Bonjour Paul,\nnous ouvrons une enquête"), second.text
    finally:
        context.close()
    assert not errors, f"the page raised: {errors}"


def test_a_mail_given_while_the_agent_reads_another_is_announced_not_swapped_in(
    browser: Any, relais: Relais
) -> None:
    """The queue auto-accepts: the mail opens by itself only when the agent has nothing open."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB")
    try:
        page = context.new_page()
        desk_login(page, relais.base)
        subject = page.get_by_test_id("mail-subject")
        relais.deliver(customer_mail("Colis 1042 jamais arrivé", QUESTION))
        expect(subject).to_have_text("Colis 1042 jamais arrivé")

        relais.deliver(
            customer_mail("Colis 2077 pas reçu", SIMILAR, sender=f"Paul Durand <{OTHER}>"),
            sender=OTHER,
        )
        toast = page.get_by_test_id("toast")
        expect(toast).to_have_text("New conversation with Paul Durand")
        items = page.locator("[data-testid=conversation-item][data-channel=email]")
        expect(items).to_have_count(2)
        expect(subject).to_have_text("Colis 1042 jamais arrivé")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SHOTS / "desk-email-announced.png")
        toast.click()
        expect(subject).to_have_text("Colis 2077 pas reçu")

        # Once the one on screen is resolved, the next mail opens by itself again.
        page.get_by_test_id("resolve").click()
        relais.deliver(customer_mail("Facture 88", "Bonjour, la facture 88 est fausse."))
        expect(subject).to_have_text("Facture 88")
    finally:
        context.close()


def test_the_mail_desk_fits_a_phone_in_french(browser: Any, relais: Relais) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    relais.deliver(customer_mail("Changement d'adresse", QUESTION))
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR")
    try:
        page = context.new_page()
        page.goto(f"{relais.base}/desk?lang=fr")
        page.get_by_test_id("login-email").fill("alice@test.example")
        page.get_by_test_id("login-password").fill(PASSWORD)
        page.get_by_test_id("login-submit").click()
        # The mail Alice was handed opens at once; the list waits behind "back".
        expect(page.get_by_test_id("mail-subject")).to_have_text("Changement d'adresse")
        item = page.locator("[data-testid=conversation-item][data-channel=email]")
        expect(item).to_be_hidden()
        page.get_by_test_id("back").click()
        expect(item.get_by_test_id("conversation-subject")).to_have_text("Changement d'adresse")
        expect(page.get_by_test_id("mail")).to_be_hidden()
        page.screenshot(path=SHOTS / "desk-email-phone-list-fr.png")
        item.click()
        expect(item).to_be_hidden()
        toggle = page.get_by_test_id("toggle-quoted")
        expect(toggle).to_have_text("Afficher le texte cité")
        expect(page.get_by_test_id("mail-reply-to")).to_have_text(
            f"Répondre par e-mail à Claire Martin <{CUSTOMER}>"
        )
        for locator in (page.get_by_test_id("mail"), page.get_by_test_id("composer-input")):
            box = locator.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
        page.screenshot(path=SHOTS / "desk-email-phone-fr.png")
    finally:
        context.close()


def test_the_demo_shows_its_mail_in_the_desk_and_never_the_auto_reply(
    live_server: str, agent_page: Any
) -> None:
    """`relais demo` as a newcomer starts it: its e-mails are in the desk at once."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    log_in(agent_page, live_server, "sam@relais.example")  # a supervisor sees every conversation
    mails = agent_page.locator("[data-testid=conversation-item][data-channel=email]")
    subjects = mails.get_by_test_id("conversation-subject")
    expect(subjects).to_have_count(3)
    assert sorted(subjects.all_inner_texts()) == [
        "Changement d'adresse de livraison, commande 4502",
        "Facture F-2026-118 : montant incorrect",
        "Replacement seal for my espresso machine",
    ]
    expect(agent_page.get_by_text("Automatic reply", exact=False)).to_have_count(0)

    mails.filter(has_text="Facture F-2026-118").click()
    link = agent_page.get_by_test_id("mail-attachments").get_by_role("link")
    expect(link).to_have_text("facture-F-2026-118.pdf")
    response = agent_page.request.get(live_server + str(link.get_attribute("href")))
    assert response.status == 200 and response.body().startswith(b"%PDF-")
    assert response.headers["content-disposition"].startswith("attachment")
    expect(agent_page.get_by_test_id("mail").first.locator(".from")).to_have_text(
        "Claire Martin <claire-martin@example.com>"
    )
    # The demo's answered mail of weeks ago comes back as a suggestion.
    expect(agent_page.get_by_test_id("suggestion").first).to_contain_text(
        "la remise de bienvenue n'avait pas été appliquée"
    )
    agent_page.screenshot(path=SHOTS / "desk-demo-invoice.png")

    mails.filter(has_text="Replacement seal").click()
    mail = agent_page.get_by_test_id("mail").first
    expect(mail.locator(".body")).to_contain_text("Barista Pro 2")
    mail.get_by_test_id("toggle-quoted").click()
    expect(mail.locator("details.relais-quoted")).to_contain_text(
        "On Wed, 28 Oct 2026 at 19:05, Tom Baker"
    )
    agent_page.screenshot(path=SHOTS / "desk-demo-long-thread.png")
