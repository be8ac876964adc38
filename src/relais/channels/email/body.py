"""Mail bodies for display: HTML made safe, text from HTML, quoted history and signatures folded.

Mail HTML is hostile: scripts, event handlers, ``javascript:`` links, CSS that overlays the desk
or calls out, and remote images that tell the sender when and where the mail was read (tracking
pixels). ``sanitize_html`` keeps the layout tags and a few inline styles, drops the rest, blanks
remote image sources unless asked, and rewrites ``cid:`` images to the attachments' URLs.

Folding only changes what is shown first: nothing is removed from the stored message.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser

import nh3

CidUrl = Callable[[str], str | None]  # content id (no brackets) -> URL of that attachment

_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "center", "code", "col", "colgroup", "dd",
    "del", "details", "div", "dl", "dt", "em", "font", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "i", "img", "ins", "kbd", "li", "ol", "p", "pre", "q", "s", "small", "span", "strike",
    "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
    "tt", "u", "ul",
}  # fmt: skip
_ATTRIBUTES = {
    "*": {"align", "valign", "dir", "lang", "title", "style", "width", "height"},
    "a": {"href"},
    "img": {"src", "alt"},
    "font": {"color", "face", "size"},
    "td": {"colspan", "rowspan", "bgcolor"},
    "th": {"colspan", "rowspan", "bgcolor"},
    "table": {"border", "cellpadding", "cellspacing", "bgcolor"},
    "ol": {"start", "type"},
    "details": {"class"},
}
# Styles that change how text looks, none that can place it over the desk or fetch anything.
_STYLES = {
    "color", "background-color", "font", "font-family", "font-size", "font-style", "font-weight",
    "text-align", "text-decoration", "text-transform", "line-height", "letter-spacing",
    "white-space", "vertical-align", "direction", "list-style-type", "width", "max-width",
    "height", "margin", "margin-top", "margin-bottom", "margin-left", "margin-right", "padding",
    "padding-top", "padding-bottom", "padding-left", "padding-right", "border", "border-top",
    "border-bottom", "border-left", "border-right", "border-collapse", "border-color",
}  # fmt: skip
# Old-IE expressions, url(), escapes and comments that could hide either.
_BAD_STYLE = re.compile(r"expression|url\s*\(|javascript:|behavior|binding|@import|\\|/\*", re.I)
_SCHEMES = {"http", "https", "mailto", "tel", "cid"}
_DROPPED_WITH_CONTENT = {"script", "style", "title"}


def sanitize_html(html: str, *, cid_url: CidUrl | None = None, remote_images: bool = False) -> str:
    """Mail HTML safe to show in the desk: allow-listed tags, attributes and styles only.

    ``cid:`` images get ``cid_url(content_id)`` as source (none when it returns None); other
    images keep their ``alt`` but lose their source, unless ``remote_images`` (https only).
    """

    def attribute(element: str, name: str, value: str) -> str | None:
        if name == "style":
            return None if _BAD_STYLE.search(value) else value
        if element == "img" and name == "src":
            target = value.strip()
            if target[:4].lower() == "cid:":
                return cid_url(target[4:].strip("<>")) if cid_url else None
            if remote_images and target[:8].lower() == "https://":
                return target
            return None  # no request leaves the desk: no tracking pixel, no remote content
        return value

    return str(
        nh3.clean(
            html,
            tags=_TAGS,
            clean_content_tags=_DROPPED_WITH_CONTENT,
            attributes=_ATTRIBUTES,
            attribute_filter=attribute,
            url_schemes=_SCHEMES,
            filter_style_properties=_STYLES,
            link_rel="noopener noreferrer nofollow",
            set_tag_attribute_values={"a": {"target": "_blank"}},
        )
    )


_HTML_SPACE = re.compile(r"\s+")
# Line breaks where a browser would put them: around blocks, before rows, items and <br>.
_HTML_BREAK = re.compile(
    r"<(?:/?(?:p|div|h[1-6]|blockquote|table|ul|ol|pre|hr)|br|tr|li)\b[^>]*>", re.I
)
_HTML_CELL = re.compile(r"</t[dh]\s*>", re.I)
_BLANKS = re.compile(r"\n[ \t\u00a0]*(?:\n[ \t\u00a0]*){2,}")


def html_to_text(html: str) -> str:
    """Readable text from mail HTML: blocks on their own lines, scripts and styles dropped."""
    flat = _HTML_SPACE.sub(" ", html)
    flat = _HTML_CELL.sub("\t", _HTML_BREAK.sub(lambda m: "\n" + m.group(0), flat))
    text = html_lib.unescape(
        str(nh3.clean(flat, tags=set(), clean_content_tags=_DROPPED_WITH_CONTENT))
    )
    lines = (line.strip(" \t\u00a0") for line in text.split("\n"))
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


@dataclass(frozen=True, slots=True)
class Folded:
    """A text body cut for display; ``new_text + signature + quoted_history`` is all of it."""

    new_text: str
    quoted_history: str
    signature: str


_ATTRIBUTION = re.compile(
    r"^\s*(?:On\s.{1,300}\swrote|Le\s.{1,300}\sa\s[ée]crit|Am\s.{1,300}\sschrieb"
    r"|El\s.{1,300}\sescribi[óo])\s?:\s*$",
    re.I | re.S,
)
_ATTRIBUTION_START = re.compile(r"^\s*(?:On|Le|Am|El)\s", re.I)
_ORIGINAL = re.compile(
    r"^\s*-{2,}\s*(?:Original Message|Message d'origine|Message original|Ursprüngliche Nachricht"
    r"|Mensaje original)\s*-{2,}\s*$",
    re.I,
)
_OUTLOOK_FROM = re.compile(r"^\s*\*?(?:From|De|Von)\s?\*?\s?:\s?\*?\s*\S", re.I)
_OUTLOOK_SENT = re.compile(r"^\s*\*?(?:Sent|Envoyé|Date|Gesendet)\s?\*?\s?:", re.I)
_RULE = re.compile(r"^\s*_{10,}\s*$")
_SIGNATURE = re.compile(r"^(?:-- ?|--\s*)$")
_SENT_FROM = re.compile(r"^\s*(?:Sent from my|Envoyé de mon|Envoyé depuis mon|Von meinem)\s", re.I)


def split_quoted(text: str) -> Folded:
    """Split a text body into what is new, its signature, and the quoted history below."""
    lines = text.splitlines(keepends=True)
    start = _history_start(lines)
    head, history = lines[:start], lines[start:]
    sig = next((i for i, line in enumerate(head) if _SIGNATURE.match(line.rstrip("\r\n"))), None)
    if sig is None:
        sig = next((i for i, line in enumerate(head) if _SENT_FROM.match(line)), None)
    signature = head[sig:] if sig is not None else []
    new = head[:sig] if sig is not None else head
    return Folded(
        new_text="".join(new).rstrip(),
        quoted_history="".join(history),
        signature="".join(signature).strip("\r\n"),
    )


def _history_start(lines: list[str]) -> int:
    for i, line in enumerate(lines):
        if _ORIGINAL.match(line) or _starts_outlook_header(lines, i):
            return i - 1 if i and _RULE.match(lines[i - 1]) else i
        if not _ATTRIBUTION_START.match(line):
            continue
        # An attribution can wrap over up to three lines.
        for span in (1, 2, 3):
            if _ATTRIBUTION.match(" ".join(x.strip() for x in lines[i : i + span])):
                if not _interleaved(lines[i + span :]):
                    return i
                break
    return _trailing_quote(lines)


def _starts_outlook_header(lines: list[str], i: int) -> bool:
    if not _OUTLOOK_FROM.match(lines[i]):
        return False
    return any(_OUTLOOK_SENT.match(line) for line in lines[i + 1 : i + 5])


def _interleaved(rest: list[str]) -> bool:
    """Answers written between the quoted lines: then the attribution opens a conversation."""
    quoted = False
    for line in rest:
        stripped = line.strip()
        if stripped.startswith(">"):
            quoted = True
        elif quoted and _SIGNATURE.match(line.rstrip("\r\n")):
            return False
        elif quoted and stripped:
            return True
    return False


def _trailing_quote(lines: list[str]) -> int:
    """The start of a block of ``>`` lines running to the end (interleaved answers stay new)."""
    start = len(lines)
    for i in range(len(lines) - 1, -1, -1):
        stripped = lines[i].strip()
        if stripped.startswith(">"):
            start = i
        elif stripped:
            break
    return start


class _QuoteFinder(HTMLParser):
    """Where the quoted history starts in mail HTML, by the marks mail clients leave."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.start: tuple[int, int] | None = None
        self.to_end = False  # Outlook's header block: the history is everything after it
        self._tag: str | None = None
        self._depth = 0
        self.end: tuple[int, int] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.start is not None:
            if tag == self._tag:
                self._depth += 1
            return
        values = {k: (v or "") for k, v in attrs}
        marks = f"{values.get('class', '')} {values.get('id', '')}".lower()
        style = values.get("style", "").replace(" ", "").lower()
        quote = tag == "blockquote" or any(
            m in marks
            for m in ("gmail_quote", "moz-cite-prefix", "yahoo_quoted", "protonmail_quote")
        )
        outlook = any(m in marks for m in ("divrplyfwdmsg", "appendonsend", "stopspelling")) or (
            tag == "div" and "border-top:solid" in style and "padding:3" in style
        )
        if quote or outlook:
            self.start, self.to_end = self.getpos(), outlook
            self._tag, self._depth = tag, 1

    def handle_endtag(self, tag: str) -> None:
        if self.start is not None and self.end is None and tag == self._tag:
            self._depth -= 1
            if self._depth == 0:
                self.end = self.getpos()


MAX_HTML_TO_FOLD = 2 * 1024 * 1024


def fold_html(html: str) -> tuple[str, str]:
    """Mail HTML (before sanitising) cut into (new part, quoted history); history may be ""."""
    if len(html) > MAX_HTML_TO_FOLD:
        return html, ""
    finder = _QuoteFinder()
    try:
        finder.feed(html)
        finder.close()
    except Exception:  # malformed HTML: show it unfolded
        return html, ""
    if finder.start is None:
        return html, ""
    offsets = [0]
    for line in html.splitlines(keepends=True):
        offsets.append(offsets[-1] + len(line))
    start = offsets[finder.start[0] - 1] + finder.start[1]
    if finder.end is not None and not finder.to_end:
        after = offsets[finder.end[0] - 1] + finder.end[1]
        # A quote followed by more of the writer's own text is part of the answer.
        if html_to_text(html[after:]).strip():
            return html, ""
    return html[:start], html[start:]


def render_html(
    html: str, *, cid_url: CidUrl | None = None, remote_images: bool = False, summary: str = "…"
) -> str:
    """Safe HTML for the desk with the quoted history folded into a closed ``<details>``."""
    new, history = fold_html(html)
    shown = sanitize_html(new, cid_url=cid_url, remote_images=remote_images)
    if not history:
        return shown
    folded = sanitize_html(history, cid_url=cid_url, remote_images=remote_images)
    summary = html_lib.escape(summary)
    return f'{shown}<details class="relais-quoted"><summary>{summary}</summary>{folded}</details>'
