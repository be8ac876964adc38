"""A received mail as a conversation message: the text kept whole, the HTML made safe with its
quoted history and signature folded. Pure.

The message's ``body`` keeps the whole text (search, transcripts, the list's preview); its
``html`` is what the desk shows: the mail's own HTML sanitized (``body.render_html``), or its
text escaped, with what is new shown first and the rest in closed ``<details>``.
"""

from __future__ import annotations

import html as html_lib
import unicodedata
from dataclasses import dataclass

from relais.channels.email.body import CidUrl, render_html, split_quoted
from relais.channels.email.parse import ParsedMail

MAX_BODY_CHARS = 200_000
_SUMMARY = {"en": "Earlier messages", "fr": "Messages précédents"}
_SIGNATURE = {"en": "Signature", "fr": "Signature"}


@dataclass(frozen=True, slots=True)
class Shown:
    body: str
    html: str


def for_conversation(mail: ParsedMail, *, cid_url: CidUrl, lang: str = "en") -> Shown:
    summary = _SUMMARY.get(lang, _SUMMARY["en"])
    body = clean_text(mail.text)
    if mail.html and mail.html.strip():
        shown = render_html(mail.html, cid_url=cid_url, summary=summary)
    else:
        shown = text_to_html(body, summary=summary, signature=_SIGNATURE.get(lang, "Signature"))
    return Shown(body=body, html=shown)


def clean_text(text: str) -> str:
    """Newlines normalised, control characters out (tabs and newlines stay), bounded."""
    text = text[:MAX_BODY_CHARS].replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(
        ch for ch in text if ch in "\n\t" or not unicodedata.category(ch).startswith("C")
    )
    return unicodedata.normalize("NFC", text).strip()


def text_to_html(text: str, *, summary: str, signature: str = "Signature") -> str:
    folded = split_quoted(text)
    parts = [_paragraphs(folded.new_text)]
    if folded.signature:
        parts.append(_details(signature, folded.signature))
    if folded.quoted_history.strip():
        parts.append(_details(summary, folded.quoted_history))
    return "".join(parts)


def _paragraphs(text: str) -> str:
    blocks = [b for b in text.split("\n\n") if b.strip()]
    return "".join(
        "<p>" + "<br>".join(html_lib.escape(line) for line in b.strip("\n").split("\n")) + "</p>"
        for b in blocks
    )


def _details(summary: str, text: str) -> str:
    inner = html_lib.escape(text.strip("\n"))
    return (
        f'<details class="relais-quoted"><summary>{html_lib.escape(summary)}</summary>'
        f"<pre>{inner}</pre></details>"
    )
