"""The texts Relais writes by itself: acknowledgements and transcripts, in English and French.

Acknowledgements can be replaced per queue and language in the settings
(``RELAIS_MAIL__ACK_TEMPLATES``); a template that names an unknown placeholder falls back to the
built-in text rather than failing the mail it answers.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from relais.channels.email.domain import Language

ACK: dict[Language, dict[str, str]] = {
    "en": {
        "subject": "{reference} We have received your message: {subject}",
        "body": (
            "Hello {name},\n\n"
            "Thank you for writing to us. Your message has reached our {queue} team under the "
            "reference {reference}.\n"
            "We expect to answer {expected}.\n\n"
            "To add anything, reply to this message and keep the reference in the subject.\n\n"
            "This is an automatic message."
        ),
    },
    "fr": {
        "subject": "{reference} Nous avons bien reçu votre message : {subject}",
        "body": (
            "Bonjour {name},\n\n"
            "Merci de nous avoir écrit. Votre message est arrivé à notre équipe {queue} sous la "
            "référence {reference}.\n"
            "Nous prévoyons de vous répondre {expected}.\n\n"
            "Pour ajouter quelque chose, répondez à ce message en gardant la référence dans "
            "l'objet.\n\n"
            "Ceci est un message automatique."
        ),
    },
}
_SOON = {"en": "as soon as possible", "fr": "dès que possible"}
_GREETING_NAME = {"en": "there", "fr": ""}
_DAYS = {
    "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    "fr": ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"],
}


def expected_phrase(
    now: datetime, at: datetime | None, lang: Language, zone: ZoneInfo | None = None
) -> str:
    """ "within about 2 hours", "by Monday 10:00", or "as soon as possible" when unknown."""
    if at is None:
        return _SOON[lang]
    delta = at - now
    if delta <= timedelta(hours=1):
        minutes = max(5, 5 * -(-int(delta.total_seconds() // 60) // 5))
        return f"within about {minutes} minutes" if lang == "en" else f"d'ici {minutes} minutes"
    if delta <= timedelta(hours=8):
        hours = -(-int(delta.total_seconds()) // 3600)
        return f"within about {hours} hours" if lang == "en" else f"d'ici {hours} heures"
    local = at.astimezone(zone) if zone else at
    day = _DAYS[lang][local.weekday()]
    when = f"{day} {local:%H:%M}"
    return f"by {when}" if lang == "en" else f"d'ici {when}"


@dataclass(frozen=True, slots=True)
class Text:
    subject: str
    body: str


def acknowledgement(
    lang: Language,
    values: Mapping[str, str],
    overrides: Mapping[str, Mapping[str, str]] | None = None,
) -> Text:
    """The acknowledgement in ``lang``, from the queue's templates when set."""
    texts = {**ACK[lang], **(overrides or {}).get(lang, {})}
    values = {**values, "name": values.get("name") or _GREETING_NAME[lang]}
    out: dict[str, str] = {}
    for part in ("subject", "body"):
        try:
            out[part] = _fill(texts[part], values)
        except (KeyError, ValueError, IndexError):
            out[part] = _fill(ACK[lang][part], values)
    return Text(subject=" ".join(out["subject"].split()), body=out["body"].replace(" ,", ","))


def _fill(template: str, values: Mapping[str, str]) -> str:
    # Only plain {name} fields: "{subject.__class__}" and the like are refused, not evaluated.
    for _, field, _, _ in string.Formatter().parse(template):
        if field is not None and not field.isidentifier():
            raise ValueError(f"bad placeholder {field!r}")
    return template.format_map(dict(values))


_TRANSCRIPT = {
    "en": ("{reference} Transcript of your conversation", "Your conversation of {date}:"),
    "fr": ("{reference} Transcription de votre conversation", "Votre conversation du {date} :"),
}


def transcript(
    lang: Language, reference: str, started: datetime, lines: Sequence[tuple[datetime, str, str]]
) -> Text:
    """A conversation as text: one paragraph per message, "HH:MM name: text"."""
    subject, heading = _TRANSCRIPT[lang]
    body = [heading.format(date=f"{started:%Y-%m-%d}"), ""]
    for at, who, text in lines:
        body.append(f"{at:%H:%M} {who}:")
        body.extend(f"  {line}" for line in text.splitlines() or [""])
        body.append("")
    return Text(subject=subject.format(reference=reference), body="\n".join(body).rstrip() + "\n")
