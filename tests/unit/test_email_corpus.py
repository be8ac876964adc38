"""Every message of tests/data/mail/ gives what tests/data/mail/expected.toml says.

Real-world-shaped mail written for these tests: auto-replies of several clients, bounces of
several MTAs, lists, hostile HTML, broken MIME and charsets, threads. Big and hostile inputs that
would weigh megabytes are generated in test_email_parse.py instead.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from relais.channels.email.automatic import classify_automatic
from relais.channels.email.body import render_html, sanitize_html, split_quoted
from relais.channels.email.dsn import read_delivery_report
from relais.channels.email.parse import ParsedMail, parse_message
from relais.channels.email.threading import find_reference, thread_keys

FOLDER = Path(__file__).resolve().parents[1] / "data" / "mail"
EXPECTED: dict[str, dict[str, Any]] = tomllib.loads((FOLDER / "expected.toml").read_text("utf-8"))
OURS = ["support@relais.example"]


def test_the_corpus_holds_thirty_messages_or_more_each_with_its_expectation() -> None:
    files = sorted(p.name for p in FOLDER.glob("*.eml"))
    assert len(files) >= 30
    assert files == sorted(EXPECTED)


def cid_url(content_id: str) -> str:
    return f"/attachments/{content_id}"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_message(name: str) -> None:
    expected = EXPECTED[name]
    mail = parse_message((FOLDER / name).read_bytes())
    check_classification(mail, expected)
    check_identity(mail, expected)
    check_body(mail, expected)
    check_report(mail, expected)
    check_folding(mail, expected)


def check_classification(mail: ParsedMail, expected: dict[str, Any]) -> None:
    verdict = classify_automatic(mail, OURS)
    assert verdict.kind == expected["kind"]
    assert expected.get("reason", "") in verdict.reason
    assert verdict.suppress_auto_reply == expected.get("suppress_auto_reply", False)


def check_identity(mail: ParsedMail, expected: dict[str, Any]) -> None:
    assert mail.message_id_synthetic == expected.get("synthetic_id", False)
    assert mail.message_id.startswith("<") and mail.message_id.endswith(">")
    if "message_id" in expected:
        assert mail.message_id == expected["message_id"]
    if "thread_keys" in expected:
        assert list(thread_keys(mail)) == expected["thread_keys"]
    assert find_reference(mail.subject) == expected.get("reference")
    if "subject" in expected:
        assert mail.subject == expected["subject"]
    if "from" in expected:
        assert mail.from_ is not None and mail.from_.address == expected["from"]
    if "cc" in expected:
        assert [a.address for a in mail.cc] == expected["cc"]
    if "reply_to" in expected:
        assert [a.address for a in mail.reply_to] == expected["reply_to"]


def check_body(mail: ParsedMail, expected: dict[str, Any]) -> None:
    for excerpt in expected.get("text", []):
        assert excerpt in mail.text
    for excerpt in expected.get("not_text", []):
        assert excerpt not in mail.text
    assert "\r" not in mail.text
    if "html" in expected:
        assert (mail.html is not None) == expected["html"]
    if "attachments" in expected:
        assert len(mail.attachments) == expected["attachments"]
    if "inline" in expected:
        inline = [a for a in mail.attachments if a.disposition == "inline"]
        assert len(inline) == expected["inline"]
        assert all(a.content_id for a in inline)
    if "attachment_names" in expected:
        assert [a.filename for a in mail.attachments] == expected["attachment_names"]
    for attachment in mail.attachments:
        assert len(attachment.data()) == attachment.size
    if "defects" in expected:
        assert bool(mail.defects) == expected["defects"], mail.defects
    if "defect" in expected:
        assert any(expected["defect"] in d for d in mail.defects), mail.defects
    if "safe_html" in expected or "unsafe_html" in expected:
        assert mail.html is not None
        safe = sanitize_html(mail.html, cid_url=cid_url)
        for excerpt in expected.get("safe_html", []):
            assert excerpt in safe
        for excerpt in expected.get("unsafe_html", []):
            assert excerpt.lower() not in safe.lower()


def check_report(mail: ParsedMail, expected: dict[str, Any]) -> None:
    if "recipients" not in expected:
        return
    report = read_delivery_report(mail)
    got = [
        {"address": r.address, "action": r.action, "status": r.status} for r in report.recipients
    ]
    want = [{"status": None, **r} for r in expected["recipients"]]
    assert got == want
    assert report.original_message_id == expected.get("original_message_id")


def check_folding(mail: ParsedMail, expected: dict[str, Any]) -> None:
    folded = split_quoted(mail.text)
    for excerpt in expected.get("new_text", []):
        assert excerpt in folded.new_text
    for excerpt in expected.get("quoted", []):
        assert excerpt in folded.quoted_history
        assert excerpt not in folded.new_text
    for excerpt in expected.get("signature", []):
        assert excerpt in folded.signature
        assert excerpt not in folded.new_text
    if expected.get("html_quote"):
        assert mail.html is not None
        shown = render_html(mail.html)
        new, _, history = shown.partition('<details class="relais-quoted">')
        assert history, shown
        for excerpt in expected.get("new_text", []) + expected.get("text", []):
            assert excerpt in new
