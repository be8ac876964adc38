"""Which conversation a mail continues: Message-ID chains, then the subject's [#1234]."""

from __future__ import annotations

import pytest

from relais.channels.email.parse import parse_message
from relais.channels.email.threading import (
    find_reference,
    format_reference,
    normalise_subject,
    reply_subject,
    thread_keys,
)


def test_format_reference() -> None:
    assert format_reference(1234) == "[#1234]"
    with pytest.raises(ValueError):
        format_reference(0)


@pytest.mark.parametrize(
    ("subject", "number"),
    [
        ("[#1234] Ma commande", 1234),
        ("Re: RE: Fwd: TR: [#1234] Ma commande", 1234),
        ("RE : TR : [#1234]", 1234),
        ("AW: WG: Antw: [ # 1234 ] Bestellung", 1234),
        ("Réponse automatique : [#77] Livraison", 77),
        ("Re: [#12] about [#99]", 12),
        ("[#0] nothing", None),
        ("[#12345678901234] too long to be ours", None),
        ("Order #1234 without brackets", None),
        ("", None),
    ],
)
def test_find_reference(subject: str, number: int | None) -> None:
    assert find_reference(subject) == number


@pytest.mark.parametrize(
    ("subject", "normal"),
    [
        ("Re: RE: Fwd: TR: [#1234]  Ma   commande", "Ma commande"),
        ("RE : TR : Réf : Facture", "Facture"),
        ("Re[2]: AW: SV: VS: Odp: Res: RV: ENC: Subject", "Subject"),
        ("Re: [#12] Fwd: nested", "nested"),
        ("Refund request", "Refund request"),
        ("Trip to Lyon", "Trip to Lyon"),
    ],
)
def test_normalise_subject(subject: str, normal: str) -> None:
    assert normalise_subject(subject) == normal


def test_reply_subject_carries_the_reference_once() -> None:
    assert reply_subject("RE: TR: [#1234] Ma commande", 1234) == "Re: [#1234] Ma commande"
    assert reply_subject("", 7) == "Re: [#7]"


def test_thread_keys_in_reply_to_first_then_references_newest_first_without_repeats() -> None:
    mail = parse_message(
        b"From: a@example.com\r\nMessage-ID: <self@example.com>\r\n"
        b"In-Reply-To: <p3@example.com>\r\n"
        b"References: <root@example.com> <p2@example.com> <p3@example.com> <self@example.com>\r\n"
        b"\r\nbody"
    )

    assert thread_keys(mail) == ("<p3@example.com>", "<p2@example.com>", "<root@example.com>")


def test_thread_keys_of_a_new_message_are_empty() -> None:
    assert thread_keys(parse_message(b"From: a@example.com\r\nSubject: new\r\n\r\nbody")) == ()
