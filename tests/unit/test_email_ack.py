"""Acknowledgements: per queue and language, [#n], a human expected time, safe substitution."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from relais.channels.email.ack import (
    AckTemplates,
    Rendered,
    Template,
    expected_phrase,
    render,
)
from relais.channels.email.threading import find_reference
from relais.routing.hours import BusinessHours

PARIS = ZoneInfo("Europe/Paris")
OFFICE = BusinessHours(
    timezone="Europe/Paris",
    weekly={d: ("09:00-18:00",) for d in ("mon", "tue", "wed", "thu", "fri")},
)


def paris(day: int, hour: int, minute: int = 0) -> datetime:
    """November 2024: the 12th is a Tuesday."""
    return datetime(2024, 11, day, hour, minute, tzinfo=PARIS).astimezone(UTC)


@pytest.mark.parametrize(
    ("now", "at", "english", "french"),
    [
        (paris(12, 10), None, "as soon as possible", "dès que possible"),
        (paris(12, 10), paris(12, 10, 40), "within the hour", "dans l'heure"),
        (paris(12, 10), paris(12, 11, 10), "in about an hour", "d'ici une heure environ"),
        (paris(12, 10), paris(12, 12, 5), "in about 2 hours", "d'ici environ 2 heures"),
        (paris(12, 10), paris(12, 16, 50), "in about 7 hours", "d'ici environ 7 heures"),
        (paris(12, 17, 30), paris(13, 10), "tomorrow morning", "demain matin"),
        (paris(12, 20), paris(13, 9, 30), "tomorrow morning", "demain matin"),  # closed now
        (paris(13, 2), paris(13, 9, 30), "this morning", "ce matin"),  # closed, same day
        (paris(12, 10), paris(13, 14), "tomorrow afternoon", "demain après-midi"),
        (paris(15, 19), paris(18, 9, 30), "on Monday morning", "lundi matin"),
        (paris(12, 10), paris(28, 9), "by 28 November", "d'ici le 28 novembre"),
    ],
)
def test_expected_time_as_a_person_says_it(
    now: datetime, at: datetime | None, english: str, french: str
) -> None:
    assert expected_phrase(now, at, "en", zone=PARIS, hours=OFFICE) == english
    assert expected_phrase(now, at, "fr", zone=PARIS, hours=OFFICE) == french


def test_an_unknown_language_speaks_english() -> None:
    assert expected_phrase(paris(12, 10), None, "de", zone=PARIS) == "as soon as possible"


def test_default_acknowledgements_in_french_and_english() -> None:
    templates = AckTemplates()
    for language, greeting, expected in [
        ("fr", "Bonjour Élodie,", "demain matin"),
        ("en", "Hello Élodie,", "tomorrow morning"),
    ]:
        ack = render(
            templates, queue="refunds", queue_name="Remboursements", language=language,
            number=7001, subject="Re: Retour produit", name="Élodie", expected=expected,
        )  # fmt: skip
        assert ack.language == language
        assert ack.subject.startswith("[#7001] ")
        assert find_reference(ack.subject) == 7001
        assert ack.text.startswith(greeting)
        assert expected in ack.text and "[#7001]" in ack.text and "Remboursements" in ack.text
        assert ack.html.startswith(f"<p>{greeting}</p>")
        assert ack.html.count("<p>") == 4


def test_queue_templates_override_and_fall_back() -> None:
    templates = AckTemplates(
        queues={
            "vip": {"fr": Template(subject="{reference} Merci", body="Cher client, {expected}.")}
        },
        languages={"de": Template(subject="{reference} Danke", body="Danke, {name}.")},
        default_language="fr",
    )

    def ack(queue: str | None, language: str) -> Rendered:
        return render(templates, queue=queue, queue_name="VIP", language=language, number=3,
                      subject="x", name="", expected="bientôt")  # fmt: skip

    assert ack("vip", "fr").text == "Cher client, bientôt.\n"
    # No English template for "vip": the general English one.
    assert ack("vip", "en").subject == "[#3] We have received your message: x"
    assert ack(None, "de").language == "de" and ack(None, "de").subject == "[#3] Danke"
    # An unknown language: the default language's queue template.
    italian = ack("vip", "it")
    assert italian.language == "fr" and italian.subject == "[#3] Merci"


def test_no_name_leaves_no_hole() -> None:
    ack = render(AckTemplates(), queue=None, queue_name="Support", language="en", number=1,
                 subject="Hi", name="", expected="soon")  # fmt: skip
    assert ack.text.startswith("Hello,\n")


@pytest.mark.parametrize(
    "hostile",
    [
        "{reference.__class__.__mro__}",
        "{0}",
        "{name}{expected}",
        "{{subject}}",
        "}{",
        "%s %(name)s $name ${name}",
        '<script>alert(1)</script> & "quotes"',
    ],
)
def test_the_customers_subject_is_text_never_a_template(hostile: str) -> None:
    ack = render(AckTemplates(), queue=None, queue_name="Support", language="en", number=9,
                 subject=hostile, name=hostile, expected="soon")  # fmt: skip
    assert ack.subject == f"[#9] We have received your message: {hostile}"
    assert f"Hello {hostile}," in ack.text
    assert "<script>" not in ack.html
    assert "&lt;script&gt;" in ack.html or "<script>" not in hostile


def test_line_breaks_cannot_reach_the_subject_line() -> None:
    hostile = "Hi\r\nBcc: victim@example.com\n"
    ack = render(AckTemplates(), queue=None, queue_name="Sup\r\nport", language="en", number=9,
                 subject=hostile, name="A\nB", expected="soon")  # fmt: skip
    assert "\n" not in ack.subject and "\r" not in ack.subject
    assert ack.subject.endswith("Hi Bcc: victim@example.com")
    assert "Hello A B," in ack.text


@pytest.mark.parametrize(
    ("subject", "body", "message"),
    [
        ("{reference} {subjet}", "x", "unknown placeholder '{subjet}'"),
        ("{reference}", "{name.upper}", "unknown placeholder"),
        ("{reference}", "{0}", "unknown placeholder"),
        ("{reference}", "a } b", "a lone '}'"),
        ("{reference}", "a { b", "a lone '{'"),
        ("We got it", "x", "the subject needs {reference}"),
        ("{reference}", "", "at least 1 character"),
    ],
)
def test_a_bad_template_is_refused_when_saved(subject: str, body: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("{", r"\{").replace("}", r"\}")):
        Template(subject=subject, body=body)


def test_braces_are_written_twice() -> None:
    template = Template(subject="{reference} {{ok}}", body="Set {{x}} = {name}")
    ack = render(AckTemplates(languages={"en": template}), queue=None, queue_name="S",
                 language="en", number=2, subject="s", name="N", expected="e")  # fmt: skip
    assert ack.subject == "[#2] {ok}" and ack.text == "Set {x} = N\n"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400), st.text(max_size=100), st.sampled_from(["en", "fr", "xx"]))
def test_any_subject_and_name_render_with_the_reference_and_one_line(
    subject: str, name: str, language: str
) -> None:
    ack = render(AckTemplates(), queue="q", queue_name="Q", language=language, number=42,
                 subject=subject, name=name, expected="soon")  # fmt: skip
    assert find_reference(ack.subject) == 42
    assert "\n" not in ack.subject and "\r" not in ack.subject
    assert "<" not in ack.html.replace("<p>", "").replace("</p>", "").replace("<br>", "")


def test_the_quoted_subject_loses_reply_prefixes_and_other_references() -> None:
    ack = render(AckTemplates(), queue=None, queue_name="S", language="fr", number=7001,
                 subject="RE : Re: [#999] Retour produit", name="", expected="bientôt")  # fmt: skip
    assert ack.subject == "[#7001] Nous avons bien reçu votre message : Retour produit"
    assert ack.html.endswith("<p>Ceci est un message automatique.</p>\n")


def test_the_settings_shape_takes_part_of_a_template_and_names_a_bad_one() -> None:
    templates = AckTemplates.from_queues(
        {"Refunds": {"fr": {"subject": "Reçu {reference} (n° {number})"}}}
    )
    ack = render(templates, queue="Refunds", queue_name="Refunds", language="fr", number=12,
                 subject="s", name="", expected="bientôt")  # fmt: skip
    assert ack.subject == "Reçu [#12] (n° 12)" and ack.text.startswith("Bonjour,")
    other = render(templates, queue="Other", queue_name="Other", language="fr", number=12,
                   subject="s", name="", expected="bientôt")  # fmt: skip
    assert other.subject.startswith("[#12] Nous avons bien reçu")
    with pytest.raises(ValueError, match=r"Refunds/en: .*unknown placeholder"):
        AckTemplates.from_queues({"Refunds": {"en": {"body": "{subject.__class__}"}}})
    with pytest.raises(ValueError, match=r"Refunds/de: .*subject"):
        AckTemplates.from_queues({"Refunds": {"de": {"body": "Danke"}}})  # no default in German
