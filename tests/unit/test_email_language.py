"""The language of a mail: French and English told apart, other languages and noise "unknown"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relais.channels.email.language import UNKNOWN, Detector, default_detector, detect_language

INTENT = Path(__file__).parent.parent / "data" / "mail" / "intent"
MAILS = [
    json.loads(line)
    for path in sorted(INTENT.glob("*.jsonl"))
    for line in path.read_text("utf-8").splitlines()
]


def test_every_labelled_mail_body_is_in_its_language() -> None:
    wrong = [m["body"] for m in MAILS if detect_language(m["body"]) != m["lang"]]
    assert not wrong, wrong


def test_subject_and_body_together_are_in_their_language() -> None:
    wrong = [m for m in MAILS if detect_language(f"{m['subject']}\n{m['body']}") != m["lang"]]
    assert not wrong


@pytest.mark.parametrize(
    "text",
    [
        "Ich habe meine Bestellung nicht erhalten, bitte helfen Sie mir schnell.",
        "No he recibido mi pedido, ¿pueden ayudarme por favor?",
        "Non ho ricevuto il mio ordine, potete aiutarmi?",
    ],
)
def test_a_language_we_do_not_answer_in_is_unknown_not_french_or_english(text: str) -> None:
    assert detect_language(text) == UNKNOWN
    assert detect_language(text, hint="fr") == UNKNOWN  # the text is sure: the header loses


def test_a_detector_answering_in_german_says_german() -> None:
    detector = Detector(("en", "fr", "de"))
    assert (
        detector.detect("Ich habe meine Bestellung nicht erhalten, bitte helfen Sie mir.") == "de"
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "12345 67890",
        "https://example.com/a/b?c=d",
        "jean@example.com",
        "[#1234] 42",
        "ok",
    ],
)
def test_text_without_words_is_unknown(text: str) -> None:
    assert detect_language(text) == UNKNOWN


def test_the_content_language_header_decides_when_the_text_cannot() -> None:
    assert detect_language("[#1234]", hint="fr-FR") == "fr"
    assert detect_language("", hint="en-GB, fr") == "en"
    assert detect_language("", hint="de") == UNKNOWN  # not one of the answers
    assert detect_language("Bonjour, je n'ai toujours pas reçu mon colis.", hint="en") == "fr"


def test_links_and_addresses_do_not_make_french_english() -> None:
    body = (
        "Bonjour, voici ma facture https://shop.example.com/account/orders/invoice?id=123 "
        "envoyée à support-team@example.com, merci."
    )
    assert detect_language(body) == "fr"


def test_high_accuracy_mode_reads_short_subjects() -> None:
    detector = Detector(("en", "fr"), accurate=True)
    assert detector.detect("Remboursement non reçu") == "fr"
    assert detector.detect("Refund not received") == "en"


def test_confidences_sum_to_one_best_first() -> None:
    shares = default_detector().confidences("Bonjour, je voudrais une facture s'il vous plaît.")
    assert next(iter(shares)) == "fr"
    assert sum(shares.values()) == pytest.approx(1.0)
    assert list(shares.values()) == sorted(shares.values(), reverse=True)


def test_bad_configuration_is_refused() -> None:
    with pytest.raises(ValueError, match="ISO 639-1"):
        Detector(("en", "xx"))
    with pytest.raises(ValueError, match="at least two"):
        Detector(("en",), candidates=("en",))
    with pytest.raises(ValueError, match="between 0 and 1"):
        Detector(min_confidence=1.5)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300), st.one_of(st.none(), st.text(max_size=20)))
def test_detect_never_raises_and_answers_a_known_code(text: str, hint: str | None) -> None:
    assert detect_language(text, hint) in {"en", "fr", UNKNOWN}
