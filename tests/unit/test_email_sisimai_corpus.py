"""315 real bounces, feedback reports and auto-replies from ~70 mail systems (the Sisimai corpus).

Every one must be classified automatic (so never acknowledged nor routed), and each bounce must
give the recipients its report names and, where it carries it, the Message-ID of the message that
failed. The files are read where they are kept (``RELAIS_MAIL_CORPUS``, else
``../shared/mail-corpus/sisimai`` beside the repository), never copied into it; what each must give
is in ``tests/data/mail/sisimai-expected.toml``.

``pytest tests/unit/test_email_sisimai_corpus.py -rP`` prints the summary counts.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import pytest

from relais.channels.email.automatic import classify_automatic
from relais.channels.email.dsn import read_delivery_report
from relais.channels.email.parse import parse_message
from tests.conftest import need

REPO = Path(__file__).resolve().parents[2]
EXPECTED: dict[str, dict[str, Any]] = tomllib.loads(
    (REPO / "tests/data/mail/sisimai-expected.toml").read_text("utf-8")
)


def corpus_dir() -> Path:
    configured = os.environ.get("RELAIS_MAIL_CORPUS")
    return Path(configured) if configured else REPO.parent / "shared/mail-corpus/sisimai"


def read(name: str) -> bytes:
    path = corpus_dir() / name
    need(path.is_file(), f"mail corpus not found at {corpus_dir()} (set RELAIS_MAIL_CORPUS)")
    return path.read_bytes()


def outcome(name: str) -> dict[str, Any]:
    mail = parse_message(read(name))
    got: dict[str, Any] = {"kind": classify_automatic(mail, ["support@relais.example"]).kind}
    if "recipients" in EXPECTED[name]:
        report = read_delivery_report(mail)
        got["recipients"] = [{"address": r.address, "action": r.action} for r in report.recipients]
        if report.original_message_id:
            got["original_message_id"] = report.original_message_id
    return got


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_corpus_message_is_automatic_with_its_recipients_and_message(name: str) -> None:
    expected = {k: v for k, v in EXPECTED[name].items() if k != "named_in_report"}
    got = outcome(name)
    assert got["kind"] != "none"
    assert got == expected


def test_every_corpus_file_has_an_expectation() -> None:
    need(corpus_dir().is_dir(), f"mail corpus not found at {corpus_dir()} (set RELAIS_MAIL_CORPUS)")
    assert sorted(p.name for p in corpus_dir().glob("*.eml")) == sorted(EXPECTED)


def test_corpus_summary() -> None:
    names = sorted(EXPECTED)
    automatic = recipients_expected = recipients_read = ids_expected = ids_read = 0
    for name in names:
        got = outcome(name)
        expected = EXPECTED[name]
        automatic += got["kind"] != "none"
        if expected.get("recipients") and expected.get("named_in_report", True):
            recipients_expected += 1
            recipients_read += got.get("recipients") == expected["recipients"]
        if "original_message_id" in expected:
            ids_expected += 1
            ids_read += got.get("original_message_id") == expected["original_message_id"]
    print(
        f"\nrecognised automatic: {automatic}/{len(names)}"
        f"\nrecipients read, where the report names them: {recipients_read}/{recipients_expected}"
        f"\noriginal Message-ID read, where the report carries it: {ids_read}/{ids_expected}"
    )
    assert automatic == len(names)
    assert recipients_read == recipients_expected
    assert ids_read == ids_expected
