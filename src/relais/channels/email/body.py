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

    if too_deep(html):
        return _escaped_text(html)

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
    if too_deep(html):
        return _crude_text(html)
    flat = _HTML_SPACE.sub(" ", html)
    flat = _HTML_CELL.sub("\t", _HTML_BREAK.sub(lambda m: "\n" + m.group(0), flat))
    text = html_lib.unescape(
        str(nh3.clean(flat, tags=set(), clean_content_tags=_DROPPED_WITH_CONTENT))
    )
    lines = (line.strip(" \t\u00a0") for line in text.split("\n"))
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


# html5ever (under nh3) checks the stack of open elements at each block start: time grows with
# the square of the nesting (16,000 nested divs: 0.6 s; 200,000: minutes). Mail nests a few dozen
# levels, long Outlook threads a few hundred; deeper is hostile, and is shown as plain text.
MAX_HTML_DEPTH = 512
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)")
_ANY_TAG = re.compile(r"<[^>]*>?")
_HORIZONTAL_SPACE = re.compile(r"[ \t\u00a0]+")
_VOID = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
    "source", "track", "wbr",
}  # fmt: skip
_SIBLINGS = {"p", "li", "dd", "dt", "tr", "td", "th", "option"}  # a new one closes the last


def too_deep(html: str) -> bool:
    """Whether ``html`` nests elements deeper than ``MAX_HTML_DEPTH`` (a linear estimate)."""
    stack: list[str] = []
    open_count: dict[str, int] = {}
    for match in _TAG.finditer(html):
        name = match.group(2).lower()
        if name in _VOID:
            continue
        if match.group(1):
            if open_count.get(name):
                while stack:  # amortised: each element is popped once
                    top = stack.pop()
                    open_count[top] -= 1
                    if top == name:
                        break
            continue
        if name in _SIBLINGS and stack and stack[-1] == name:
            stack.pop()
            open_count[name] -= 1
        stack.append(name)
        open_count[name] = open_count.get(name, 0) + 1
        if len(stack) > MAX_HTML_DEPTH:
            return True
    return False


def _crude_text(html: str) -> str:
    """Text without any HTML parsing: tags out, entities decoded (for hostile HTML only)."""
    text = _HORIZONTAL_SPACE.sub(" ", html_lib.unescape(_ANY_TAG.sub(" ", html)))
    return _BLANKS.sub("\n\n", "\n".join(line.strip() for line in text.split("\n"))).strip()


def _escaped_text(html: str) -> str:
    return f"<pre>{html_lib.escape(_crude_text(html))}</pre>"


@dataclass(frozen=True, slots=True)
class Folded:
    """A text body cut for display: ``new_text``, ``signature`` and ``quoted_history`` hold all
    of it between them (the blank lines around each piece aside)."""

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
_MAX_LINES_SEARCHED = 5000
_INTERLEAVED_LOOKAHEAD = 200
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
    # Histories start in the first screens of a reply; past that, only a trailing quote is
    # looked for, which keeps hostile bodies linear.
    for i, line in enumerate(lines[:_MAX_LINES_SEARCHED]):
        if _ORIGINAL.match(line) or _starts_outlook_header(lines, i):
            return i - 1 if i and _RULE.match(lines[i - 1]) else i
        if not _ATTRIBUTION_START.match(line):
            continue
        # An attribution can wrap over up to three lines.
        for span in (1, 2, 3):
            if _ATTRIBUTION.match(" ".join(x.strip() for x in lines[i : i + span])):
                if not _interleaved(lines[i + span : i + span + _INTERLEAVED_LOOKAHEAD]):
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


_START_TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9-]*)\b([^>]*)>")
_QUOTE_MARKS = ("gmail_quote", "moz-cite-prefix", "yahoo_quoted", "protonmail_quote")
_OUTLOOK_MARKS = ("divrplyfwdmsg", "appendonsend", "stopspelling")
MAX_HTML_TO_FOLD = 2 * 1024 * 1024
# Start tags that may open a quote, found by one search rather than a loop over every tag.
_QUOTE_CANDIDATE = re.compile(
    r"<(?:blockquote\b|[a-zA-Z][a-zA-Z0-9-]*\b[^>]*?(?:"
    + "|".join(_QUOTE_MARKS + _OUTLOOK_MARKS)
    + r"|border-top:\s*solid))",
    re.IGNORECASE,
)


def fold_html(html: str) -> tuple[str, str]:
    """Mail HTML (before sanitising) cut into (new part, quoted history); history may be ""."""
    if len(html) > MAX_HTML_TO_FOLD:
        return html, ""
    for candidate in _QUOTE_CANDIDATE.finditer(html):
        match = _START_TAG.match(html, candidate.start())
        if match is None:
            continue
        tag, attributes = match.group(1).lower(), match.group(2).lower()
        outlook = any(m in attributes for m in _OUTLOOK_MARKS) or (
            tag == "div"
            and "border-top:solid" in attributes.replace(" ", "")
            and "padding:3" in attributes.replace(" ", "")
        )
        if outlook:  # Outlook's header block: the history is everything after it
            return html[: match.start()], html[match.start() :]
        if tag == "blockquote" or any(m in attributes for m in _QUOTE_MARKS):
            end = _element_end(html, tag, match.end())
            # A quote followed by more of the writer's own text is part of the answer.
            if end < len(html) and html_to_text(html[end:]).strip():
                return html, ""
            return html[: match.start()], html[match.start() :]
    return html, ""


def _element_end(html: str, tag: str, start: int) -> int:
    """Where the element opened just before ``start`` closes (the end of the text if never)."""
    depth = 1
    for match in re.finditer(rf"<(/?){re.escape(tag)}\b[^>]*>", html[start:], re.IGNORECASE):
        depth += -1 if match.group(1) else 1
        if depth == 0:
            return start + match.end()
    return len(html)


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
