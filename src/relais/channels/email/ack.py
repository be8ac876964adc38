"""The acknowledgement a customer receives: per queue and language, with the conversation's
``[#n]`` and the expected answer time said as a person would ("in about 2 hours", "demain matin").

Templates are admin-written text with ``{placeholders}`` (``{{`` and ``}}`` for braces). They are
parsed once, when saved: an unknown placeholder, a stray brace or a subject without
``{reference}`` (replies would no longer find their conversation) is refused then, with the
reason. Rendering substitutes values in one pass over the parsed pieces: a customer's subject
"{reference.__class__}" or "{0}" is text, never read as a placeholder, unlike ``str.format`` on
a string that already holds it. Values are escaped for the HTML part, and line breaks are taken
out of the subject line (they would start new header fields).

Pure: no I/O; time, time zone and business hours are arguments.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Final, Self
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from relais.channels.email.threading import format_reference, normalise_subject
from relais.routing.hours import BusinessHours

PLACEHOLDERS: Final = frozenset({"reference", "number", "subject", "name", "queue", "expected"})
MAX_TEMPLATE: Final = 10_000
MAX_VALUE: Final = 300  # of a customer's subject or name quoted in the acknowledgement
_PIECE = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_BLANKS_COMMA = re.compile(r"(?<![ \t])[ \t]+,")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")


@lru_cache(maxsize=256)
def _parse(template: str) -> tuple[str | tuple[str], ...]:
    """Literal text and ``(placeholder,)`` pieces; ValueError on anything else."""
    pieces: list[str | tuple[str]] = []
    at = 0
    for match in _PIECE.finditer(template):
        if match.start() > at:
            pieces.append(template[at : match.start()])
        token = match.group(0)
        if token in ("{{", "}}"):
            pieces.append(token[0])
        elif match.group(1) is None:
            raise ValueError(f"a lone {token!r} at {match.start()}: write {token * 2} for a brace")
        elif match.group(1) not in PLACEHOLDERS:
            known = ", ".join(sorted(PLACEHOLDERS))
            raise ValueError(f"unknown placeholder {token!r}; known: {known}")
        else:
            pieces.append((match.group(1),))
        at = match.end()
    pieces.append(template[at:])
    return tuple(pieces)


class Template(BaseModel):
    """One language's acknowledgement: a subject line and a plain-text body."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    subject: str = Field(min_length=1, max_length=1000)
    body: str = Field(min_length=1, max_length=MAX_TEMPLATE)

    @model_validator(mode="after")
    def _parses(self) -> Self:
        subject = _parse(self.subject)
        _parse(self.body)
        if ("reference",) not in subject:
            raise ValueError("the subject needs {reference}: replies find their conversation by it")
        return self


DEFAULTS: Final[dict[str, Template]] = {
    "en": Template(
        subject="{reference} We have received your message: {subject}",
        body=(
            "Hello {name},\n\n"
            "Thank you for writing to us. Your message has reached our {queue} team under the "
            "reference {reference}. We expect to answer {expected}.\n\n"
            "To add anything, reply to this message and keep the reference in the subject.\n\n"
            "This is an automatic message."
        ),
    ),
    "fr": Template(
        subject="{reference} Nous avons bien reçu votre message : {subject}",
        body=(
            "Bonjour {name},\n\n"
            "Merci de nous avoir écrit. Votre message est arrivé à notre équipe {queue} sous la "
            "référence {reference}. Nous prévoyons de vous répondre {expected}.\n\n"
            "Pour ajouter quelque chose, répondez à ce message en gardant la référence dans "
            "l'objet.\n\n"
            "Ceci est un message automatique."
        ),
    ),
}
_NO_NAME: Final = {"en": "", "fr": ""}


class AckTemplates(BaseModel):
    """Per queue, per language templates over the shipped defaults (``DEFAULTS``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default_language: str = "en"
    languages: dict[str, Template] = Field(default_factory=dict)  # over DEFAULTS
    queues: dict[str, dict[str, Template]] = Field(default_factory=dict)

    @classmethod
    def from_queues(cls, queues: Mapping[str, Mapping[str, Mapping[str, str]]]) -> AckTemplates:
        """From the setting's shape, queue name -> language -> ``{"subject", "body"}``, either
        part left out taking the default's in that language. ValueError names what is wrong."""
        parsed: dict[str, dict[str, Template]] = {}
        for queue, languages in queues.items():
            for language, parts in languages.items():
                base = DEFAULTS[language].model_dump() if language in DEFAULTS else {}
                try:
                    template = Template.model_validate({**base, **parts})
                except ValidationError as error:
                    problems = "; ".join(
                        " ".join([*map(str, e["loc"]), str(e["msg"])]) for e in error.errors()
                    )
                    raise ValueError(f"{queue}/{language}: {problems}") from None
                parsed.setdefault(queue, {})[language] = template
        return cls(queues=parsed)

    def pick(self, queue: str | None, language: str) -> tuple[str, Template]:
        """The queue's template in ``language``, else the general one, else the default
        language's: the language actually used, and the template."""
        for lang in (language, self.default_language, "en"):
            if queue is not None and lang in self.queues.get(queue, {}):
                return lang, self.queues[queue][lang]
            if lang in self.languages:
                return lang, self.languages[lang]
            if lang in DEFAULTS:
                return lang, DEFAULTS[lang]
        return "en", DEFAULTS["en"]


@dataclass(frozen=True, slots=True)
class Rendered:
    language: str
    subject: str
    text: str
    html: str


def render(
    templates: AckTemplates,
    *,
    queue: str | None,
    queue_name: str,
    language: str,
    number: int,
    subject: str,
    name: str,
    expected: str,
) -> Rendered:
    """The acknowledgement of conversation ``number`` (``expected``: ``expected_phrase``)."""
    lang, template = templates.pick(queue, language)
    values = {
        "reference": format_reference(number),
        "number": str(number),
        # Without "Re:" and [#n] tokens: ours is the one that counts.
        "subject": normalise_subject(_one_line(subject))[:MAX_VALUE] or "…",
        "name": _one_line(name)[:MAX_VALUE] or _NO_NAME.get(lang, ""),
        "queue": _one_line(queue_name)[:MAX_VALUE],
        "expected": expected,
    }
    line = _one_line(_fill(template.subject, values, escape=False))
    text = _tidy(_fill(template.body, values, escape=False))
    body_html = _tidy(_fill(template.body, values, escape=True))
    paragraphs = [p.strip().replace("\n", "<br>\n") for p in body_html.split("\n\n") if p.strip()]
    return Rendered(lang, line, text, "".join(f"<p>{p}</p>\n" for p in paragraphs))


def expected_phrase(
    now: datetime,
    at: datetime | None,
    language: str,
    *,
    zone: ZoneInfo,
    hours: BusinessHours | None = None,
) -> str:
    """When the answer is expected, as a person says it in ``language`` ("en", "fr").

    Within the working day: "within the hour", "in about 2 hours". When the queue is closed
    now (``hours``), or the answer is for another day: the part of the day, "this afternoon",
    "tomorrow morning", "on Monday morning", then a date. Unknown: "as soon as possible"."""
    words = _WORDS.get(language, _WORDS["en"])
    if at is None:
        return words["soon"]
    delta = at - now
    local_now, local_at = now.astimezone(zone), at.astimezone(zone)
    closed = hours is not None and not hours.is_open(now)
    if not closed and delta <= timedelta(minutes=50):
        return words["hour"]
    if not closed and delta <= timedelta(hours=8) and local_at.date() == local_now.date():
        count = max(1, round(delta.total_seconds() / 3600))
        return words["one"] if count == 1 else words["hours"].format(count)
    part = "morning" if local_at.hour < 12 else "afternoon" if local_at.hour < 18 else "evening"
    days = (local_at.date() - local_now.date()).days
    if days <= 0:
        return words[f"this_{part}"]
    if days == 1:
        return words[f"tomorrow_{part}"]
    if days < 7:
        return words["weekday"].format(
            day=words["days"].split()[local_at.weekday()], part=words[part]
        )
    month = words["months"].split()[local_at.month - 1]
    return words["date"].format(day=local_at.day, month=month)


_WORDS: Final[dict[str, dict[str, str]]] = {
    "en": {
        "soon": "as soon as possible",
        "hour": "within the hour",
        "one": "in about an hour",
        "hours": "in about {} hours",
        "this_morning": "this morning",
        "this_afternoon": "this afternoon",
        "this_evening": "this evening",
        "tomorrow_morning": "tomorrow morning",
        "tomorrow_afternoon": "tomorrow afternoon",
        "tomorrow_evening": "tomorrow evening",
        "morning": "morning",
        "afternoon": "afternoon",
        "evening": "evening",
        "weekday": "on {day} {part}",
        "days": "Monday Tuesday Wednesday Thursday Friday Saturday Sunday",
        "date": "by {day} {month}",
        "months": "January February March April May June July August September October "
        "November December",
    },
    "fr": {
        "soon": "dès que possible",
        "hour": "dans l'heure",
        "one": "d'ici une heure environ",
        "hours": "d'ici environ {} heures",
        "this_morning": "ce matin",
        "this_afternoon": "cet après-midi",
        "this_evening": "ce soir",
        "tomorrow_morning": "demain matin",
        "tomorrow_afternoon": "demain après-midi",
        "tomorrow_evening": "demain soir",
        "morning": "matin",
        "afternoon": "après-midi",
        "evening": "soir",
        "weekday": "{day} {part}",
        "days": "lundi mardi mercredi jeudi vendredi samedi dimanche",
        "date": "d'ici le {day} {month}",
        "months": "janvier février mars avril mai juin juillet août septembre octobre "
        "novembre décembre",
    },
}


def _fill(template: str, values: dict[str, str], *, escape: bool) -> str:
    out = []
    for piece in _parse(template):
        text = values[piece[0]] if isinstance(piece, tuple) else piece
        out.append(html.escape(text, quote=True) if escape else text)
    return "".join(out)


def _one_line(text: str) -> str:
    return " ".join(_LINE_BREAKS.sub(" ", text).split())


def _tidy(text: str) -> str:
    # An empty {name} leaves "Hello ," or "Bonjour ,": no space before the comma then.
    # The look-behind starts a match only at the start of a run of blanks: linear, where
    # "[ \t]+," alone retries from every blank of a long run.
    return _BLANKS_COMMA.sub(",", text.replace("\r\n", "\n")).strip() + "\n"
