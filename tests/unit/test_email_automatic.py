"""classify_automatic, rule by rule: what a contact centre must never acknowledge nor route."""

from __future__ import annotations

import pytest

from relais.channels.email.automatic import classify_automatic
from relais.channels.email.parse import parse_message

OURS = ["Support@Relais.example"]


def verdict(*headers: str, body: str = "Hello.", subject: str = "Question") -> tuple[str, str]:
    fields = ["From: Client <client@example.com>", "To: support@relais.example"]
    raw = "\r\n".join([*fields, f"Subject: {subject}", *headers])
    result = classify_automatic(parse_message(f"{raw}\r\n\r\n{body}".encode()), OURS)
    return result.kind, result.reason


def test_a_person_writing_is_not_automatic() -> None:
    assert verdict() == ("none", "")
    assert verdict("Auto-Submitted: no") == ("none", "")


@pytest.mark.parametrize(
    ("header", "kind"),
    [
        ("Auto-Submitted: auto-replied", "auto_reply"),
        ("Auto-Submitted: auto-generated", "auto_reply"),
        ("Auto-Submitted: auto-notified; owner-email=x@example.com", "auto_reply"),
        ("X-Autoreply: yes", "auto_reply"),
        ("X-Autorespond: Out of office", "auto_reply"),
        ("X-Mailer: Vacation 1.2.7", "auto_reply"),
        ("X-POST-MessageClass: 9; Autoresponder", "auto_reply"),
        ("Precedence: bulk", "bulk"),
        ("Precedence: junk", "bulk"),
        ("List-Unsubscribe: <https://news.example.com/u>", "bulk"),
        ("Precedence: list", "list"),
        ("List-Id: <users.lists.example.org>", "list"),
        ("Return-Path: <>", "auto_reply"),
        ("X-Failed-Recipients: gone@example.org", "bounce"),
    ],
)
def test_headers_that_make_a_message_automatic(header: str, kind: str) -> None:
    assert verdict(header)[0] == kind


@pytest.mark.parametrize(
    "subject",
    [
        "Out of Office: Question",
        "Out of office",
        "Automatic reply: [#12] Question",
        "Auto reply: Question",
        "Autoreply",
        "Auto: Jean is out of the office",
        "AUTO: Hans Weber is out of the office (returning 17/06/2024)",
        "Réponse automatique : Votre commande",
        "Reponse automatique: Votre commande",
        "Absence du bureau",
        "Absent",
        "Absente du 3 au 14 juin",
        "Message d'absence",
        "Abwesenheitsnotiz: Frage",
        "Respuesta automática: Pregunta",
    ],
)
def test_out_of_office_subjects_in_english_and_french(subject: str) -> None:
    assert verdict(subject=subject)[0] == "auto_reply"


@pytest.mark.parametrize(
    "subject",
    [
        "Out of office equipment order",
        "Re: Automatic reply settings do not work",
        "Absentee ballot question",
        "My auto insurance",
        "Automatically renewed subscription",
    ],
)
def test_people_writing_about_such_things_are_not_taken_for_machines(subject: str) -> None:
    assert verdict(subject=subject)[0] == "none"


def test_mailer_daemon_postmaster_and_null_senders_are_bounces() -> None:
    for sender in (
        "MAILER-DAEMON@mx.example.org",
        "Mail Delivery System <mailer-daemon@mx.example.org>",
        "postmaster@example.org",
        "MAILER-DAEMON <>",
    ):
        raw = f"From: {sender}\r\nSubject: x\r\n\r\nbody".encode()
        assert classify_automatic(parse_message(raw)).kind == "bounce", sender


def test_a_null_return_path_with_a_bounce_subject_or_failed_recipients_is_a_bounce() -> None:
    assert verdict("Return-Path: <>", subject="Undeliverable: Question")[0] == "bounce"
    body = "I could not deliver your message.\r\n\r\n<gone@example.org>:\r\nUser unknown\r\n"
    assert verdict("Return-Path: <>", body=body)[0] == "bounce"


def test_reports_by_their_type() -> None:
    for report_type, kind in (
        ("delivery-status", "bounce"),
        ("feedback-report", "feedback_report"),
        ("disposition-notification", "auto_reply"),
    ):
        header = f'Content-Type: multipart/report; report-type={report_type}; boundary="b"'
        assert verdict(header, body="--b\r\n\r\nx\r\n--b--")[0] == kind


def test_our_own_address_any_case_is_a_loop() -> None:
    raw = b"From: support@relais.EXAMPLE\r\nSubject: x\r\n\r\nbody"
    assert classify_automatic(parse_message(raw), OURS).kind == "own_address"


def test_suppress_auto_reply_alone_is_a_wish_not_a_machine() -> None:
    raw = b"From: a@example.com\r\nX-Auto-Response-Suppress: OOF, AutoReply\r\n\r\nbody"
    result = classify_automatic(parse_message(raw))
    assert (result.kind, result.suppress_auto_reply, result.automatic) == ("none", True, False)


def test_a_bounce_stays_a_bounce_whatever_else_it_says() -> None:
    assert verdict("X-Failed-Recipients: a@example.org", "Auto-Submitted: auto-replied")[0] == (
        "bounce"
    )
