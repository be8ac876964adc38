"""The e-mail channel's decisions, without a database: disposition, acknowledgements, expected
answer time across business hours, retries and outbound headers (language: test_email_language;
acknowledgement texts: test_email_ack)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from relais.channels.email import domain
from relais.channels.email.automatic import AutoVerdict
from relais.channels.email.compose import build_message, references_for
from relais.channels.email.parse import Address, parse_message
from relais.routing.hours import BusinessHours

PERSON = AutoVerdict("none", "")


def ack(**overrides: object) -> domain.AckDecision:
    values: dict[str, object] = {
        "enabled": True,
        "new_conversation": True,
        "verdict": PERSON,
        "recipient": "claire@client.example",
        "own_addresses": ["support@relais.example"],
        "sent_last_hour": 0,
        "per_hour": 3,
    }
    values.update(overrides)
    return domain.acknowledgement(**values)  # type: ignore[arg-type]  # the test's overrides


def test_only_a_new_conversation_from_a_person_outside_the_limit_is_acknowledged() -> None:
    assert ack().send
    assert not ack(new_conversation=False).send
    assert not ack(verdict=AutoVerdict("auto_reply", "Auto-Submitted: auto-replied")).send
    assert not ack(verdict=AutoVerdict("none", "", suppress_auto_reply=True)).send
    assert not ack(recipient="Support@Relais.example").send
    assert not ack(recipient=None).send
    assert not ack(sent_last_hour=3).send
    assert not ack(enabled=False).send


def test_disposition_sends_bounces_and_machines_away_from_agents() -> None:
    assert domain.disposition(AutoVerdict("bounce", "x")) == "bounce"
    assert domain.disposition(AutoVerdict("list", "x")) == "automatic"
    assert domain.disposition(AutoVerdict("own_address", "x")) == "automatic"
    assert domain.disposition(PERSON) == "person"


def test_a_subject_reference_is_trusted_only_from_a_known_address() -> None:
    assert domain.reference_trusted("Claire@Client.example", {"claire@client.example"})
    assert not domain.reference_trusted("eve@attacker.example", {"claire@client.example"})
    assert not domain.reference_trusted(None, {"claire@client.example"})


def test_the_expected_answer_counts_only_open_hours() -> None:
    hours = BusinessHours(timezone="Europe/Paris", weekly={"mon": ("09:00-12:00",)})
    friday_evening = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)  # a Friday
    at = domain.expected_answer_at(friday_evening, 3600.0, hours)
    assert at == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday 10:00 in Paris
    spill = domain.expected_answer_at(datetime(2026, 11, 23, 10, 30, tzinfo=UTC), 3600.0, hours)
    assert spill == datetime(2026, 11, 30, 8, 30, tzinfo=UTC)  # 30 min that Monday, 30 the next
    assert domain.expected_answer_at(friday_evening, None, hours) is None
    assert domain.expected_answer_at(friday_evening, 60.0, None) == friday_evening + timedelta(
        seconds=60
    )


def test_the_estimate_is_the_engines_else_todays_speed_of_answer() -> None:
    figures = {"waiting": 3, "agents": 2, "per_agent": 2, "asa_s": 50.0}
    assert domain.estimated_wait_s(aht_s=600.0, **figures) == 600.0  # 4 mails over 4 slots
    assert domain.estimated_wait_s(aht_s=None, **figures) == 50.0
    assert domain.estimated_wait_s(aht_s=600.0, **{**figures, "agents": 0}) == 50.0


def test_retries_double_and_stop_growing_at_the_cap() -> None:
    delays = [domain.retry_delay(n, base_s=30, max_s=3600) for n in range(1, 10)]
    assert delays[:4] == [30, 60, 120, 240] and delays[-1] == 3600
    assert domain.retry_delay(10_000, base_s=30, max_s=3600) == 3600


def test_outbound_mail_threads_and_reads_back() -> None:
    raw = build_message(
        message_id="<abc@relais.example>",
        sender=Address("Support", "support@relais.example"),
        to=[Address("Claire Martin", "claire@client.example")],
        subject="Re: [#7] Parcel",
        text="It left today.",
        html="<p>It left today.</p>",
        date=datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
        in_reply_to="<q@client.example>",
        references=references_for(["<root@client.example>"], "<q@client.example>"),
        automatic=True,
        language="en",
    )
    mail = parse_message(raw)
    assert mail.message_id == "<abc@relais.example>" and mail.subject == "Re: [#7] Parcel"
    assert mail.references == ("<root@client.example>", "<q@client.example>")
    assert mail.headers.get("Auto-Submitted") == "auto-replied"
    assert mail.text.strip() == "It left today." and mail.html is not None
    many = references_for([f"<{i}@x>" for i in range(50)], "<p@x>")
    assert len(many) == 20 and many[0] == "<0@x>" and many[-1] == "<p@x>"
