"""Outbound mail bytes: what a receiver reads back, and no header of a stranger's making."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from relais.channels.email.compose import OutgoingFile, build_message
from relais.channels.email.parse import Address, parse_message

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_an_acknowledgement_reads_back_with_its_language_and_both_parts() -> None:
    raw = build_message(
        message_id="<ack-1@relais.example>",
        sender=Address("Support", "support@relais.example"),
        to=[Address("Émilie Durand", "emilie@client.example")],
        subject="[#12] Nous avons bien reçu votre message : Où est mon colis ?",
        text="Bonjour Émilie,\n\nMerci.",
        html="<p>Bonjour Émilie,</p>\n<p>Merci.</p>\n",
        date=NOW,
        in_reply_to="<q@client.example>",
        references=["<q@client.example>"],
        automatic=True,
        language="fr",
    )
    mail = parse_message(raw)
    assert mail.subject == "[#12] Nous avons bien reçu votre message : Où est mon colis ?"
    assert mail.to[0] == Address("Émilie Durand", "emilie@client.example")
    assert mail.text.startswith("Bonjour Émilie,") and "<p>Merci.</p>" in (mail.html or "")
    assert mail.headers.get("Content-Language") == "fr"
    assert mail.headers.get("Auto-Submitted") == "auto-replied"
    assert (mail.message_id, mail.in_reply_to) == ("<ack-1@relais.example>", "<q@client.example>")
    assert b"\r\n" in raw and all(len(line) <= 998 for line in raw.split(b"\r\n"))


def test_attachments_keep_their_bytes_and_names() -> None:
    pdf = b"%PDF-1.4\n" + bytes(range(256)) * 40
    raw = build_message(
        message_id="<r@relais.example>", sender=Address("", "support@relais.example"),
        to=[Address("", "bob@client.example")], subject="Re: [#3] Facture", text="Ci-joint.",
        html=None, date=NOW,
        files=[OutgoingFile("facture n°3.pdf", "application/pdf", pdf),
               OutgoingFile("notes.txt", "text/plain", b"a\nb\n")],
    )  # fmt: skip
    mail = parse_message(raw)
    files = {a.filename: a.data() for a in mail.attachments}
    assert files == {"facture n°3.pdf": pdf, "notes.txt": b"a\nb\n"}
    assert mail.text.strip() == "Ci-joint."


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=80), st.text(max_size=80))
def test_no_name_or_subject_can_add_a_header(name: str, subject: str) -> None:
    raw = build_message(
        message_id="<x@relais.example>", sender=Address("S", "support@relais.example"),
        to=[Address(name + "\r\nBcc: eve@evil.example", "c@client.example")],
        subject=subject + "\nBcc: eve@evil.example", text="t", html=None, date=NOW,
    )  # fmt: skip
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc:" not in head and b"\nBcc:" not in head
