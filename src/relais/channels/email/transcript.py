"""The transcript of a chat a visitor asks for by e-mail, in English or French. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from relais.channels.email.domain import Language


@dataclass(frozen=True, slots=True)
class Text:
    subject: str
    body: str


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
