"""Raw RFC 5322 bytes to a ``ParsedMail``: what the rest of the e-mail channel reads.

``parse_message`` never raises and is bounded in time and memory by its limits, whatever it is
given: what cannot be read is listed in ``defects`` and the rest is still returned. The raw bytes
are kept as they came, so a better parser can read them again later.
"""

from __future__ import annotations

import email.utils
import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from relais.channels.email.body import html_to_text
from relais.channels.email.charset import decode_header
from relais.channels.email.mime import (
    Attachment,
    Limits,
    Message,
    part_headers,
    raw_header,
    read_tree,
    walk,
)

__all__ = [
    "Address",
    "Attachment",
    "Headers",
    "ParsedMail",
    "normalise_message_id",
    "parse_message",
]

DEFAULT_MAX_BYTES = 40 * 1024 * 1024  # what the big providers accept, 25-35 MB, and some room
DEFAULT_MAX_HEADER_BYTES = 256 * 1024  # real header sections stay under 64 KB
DEFAULT_MAX_HEADERS = 1000
DEFAULT_MAX_PARTS = 500
DEFAULT_MAX_DEPTH = 20  # real mail nests under 10, a bounce of a forward of a forward included
MAX_ADDRESSES = 1000
MAX_REFERENCES = 100
MAX_HTML_FOR_TEXT = 1024 * 1024  # text derived from HTML: for reading, the HTML itself is kept
MAX_DEFECTS = 50

_MESSAGE_ID = re.compile(r"<([^<>\s]{1,900})>")
_BARE_ID = re.compile(r"[^<>\s,;\"']{1,900}@[^<>\s,;\"']{1,900}")
SYNTHETIC_DOMAIN = "synthetic.relais.invalid"
# One mailbox: "Name" <a@b>, Name <a@b>, <a@b> or a@b (no comments, groups or lists).
_ONE_ADDRESS = re.compile(
    r'\s*(?:(?:"((?:[^"\\\r\n]|\\.)*)"|([^"<>,;:@()\\]*?))\s*<([^<>\s@",;]+@[^<>\s@",;]+)>'
    r'|([^\s<>,;:"()@]+@[^\s<>,;:"()@]+))\s*'
)
_UNQUOTE = re.compile(r"\\(.)")


@dataclass(frozen=True, slots=True)
class Address:
    name: str
    address: str  # lowercased; a bare local part (MAILER-DAEMON) is kept as is


@dataclass(frozen=True, slots=True)
class Headers:
    """Header fields in order, as read: decoded on access, so unread ones cost nothing."""

    raw: tuple[tuple[str, str], ...]
    _index: dict[str, tuple[int, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, list[int]] = {}
        for position, (name, _) in enumerate(self.raw):
            index.setdefault(name.lower(), []).append(position)
        object.__setattr__(self, "_index", {k: tuple(v) for k, v in index.items()})

    def get(self, name: str) -> str | None:
        """The first field ``name`` (any case) decoded to text, or None."""
        found = self._index.get(name.lower())
        return decode_header(self.raw[found[0]][1])[0] if found else None

    def get_all(self, name: str) -> tuple[str, ...]:
        found = self._index.get(name.lower(), ())
        return tuple(decode_header(self.raw[i][1])[0] for i in found)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._index


@dataclass(frozen=True, slots=True, eq=False)
class ParsedMail:
    raw: bytes
    message_id: str  # "<...>"; synthetic when the message has none (see message_id_synthetic)
    message_id_synthetic: bool
    in_reply_to: str | None
    references: tuple[str, ...]  # oldest first, as written
    from_: Address | None
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    reply_to: tuple[Address, ...]
    subject: str
    date: datetime | None  # aware; a date without zone is taken as UTC
    text: str  # text/plain parts, else text derived from the HTML
    html: str | None  # as sent, unsanitised: body.sanitize_html before showing it
    attachments: tuple[Attachment, ...]
    headers: Headers
    content_type: str
    defects: tuple[str, ...]


def parse_message(
    raw: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
    max_headers: int = DEFAULT_MAX_HEADERS,
    max_parts: int = DEFAULT_MAX_PARTS,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> ParsedMail:
    """Read ``raw``; never raises. Past a limit the rest is dropped and a defect says so."""
    limits = Limits(max_bytes, max_header_bytes, max_headers, max_parts, max_depth)
    message, defects = read_tree(raw, limits)
    body = walk(message, limits)
    defects.extend(body.defects)
    headers = Headers(tuple((str(k), str(v)) for k, v in message.raw_items()))

    message_id = normalise_message_id(_decoded(message, "Message-ID", defects))
    synthetic = message_id is None
    if message_id is None:
        message_id = f"<{hashlib.sha256(raw).hexdigest()[:40]}@{SYNTHETIC_DOMAIN}>"
        defects.append("no Message-ID: a synthetic one from the content's hash")
    references = message_ids(_decoded(message, "References", defects) or "")
    if len(references) > MAX_REFERENCES:
        references = references[:1] + references[-(MAX_REFERENCES - 1) :]  # the root, the newest

    text = "\n\n".join(t for t in body.text if t.strip())
    html = "\n".join(body.html) or None
    if not text and html:
        text = html_to_text(html[:MAX_HTML_FOR_TEXT])
        if len(html) > MAX_HTML_FOR_TEXT:
            defects.append(f"text derived from the first {MAX_HTML_FOR_TEXT} characters of HTML")

    senders = _addresses(message, "From", defects)
    to = _addresses(message, "To", defects)
    cc = _addresses(message, "Cc", defects)
    reply_to = _addresses(message, "Reply-To", defects)
    in_reply_to = normalise_message_id(_decoded(message, "In-Reply-To", defects))
    subject = _decoded(message, "Subject", defects) or ""
    date = _date(_decoded(message, "Date", defects))
    if len(defects) > MAX_DEFECTS:
        defects[MAX_DEFECTS:] = [f"and {len(defects) - MAX_DEFECTS} more defects"]
    return ParsedMail(
        raw=raw,
        message_id=message_id,
        message_id_synthetic=synthetic,
        in_reply_to=in_reply_to,
        references=references,
        from_=senders[0] if senders else None,
        to=to,
        cc=cc,
        reply_to=reply_to,
        subject=subject,
        date=date,
        text=text,
        html=html,
        attachments=tuple(body.attachments),
        headers=headers,
        content_type=_top_content_type(message),
        defects=tuple(defects),
    )


def normalise_message_id(value: str | None) -> str | None:
    """``<id>`` from a Message-ID or In-Reply-To value (the first id in it), or None."""
    if not value:
        return None
    match = _MESSAGE_ID.search(value)
    if match:
        return f"<{match.group(1)}>"
    bare = _BARE_ID.search(value)
    if bare:
        return f"<{bare.group(0)}>"
    token = value.strip().split()[0].strip("<>\"'") if value.strip() else ""
    return f"<{token}>" if token and len(token) <= 900 else None


def message_ids(value: str) -> tuple[str, ...]:
    """Every ``<id>`` of a References-like value, in order, without repeats."""
    found = [f"<{m}>" for m in _MESSAGE_ID.findall(value)]
    if not found:
        found = [f"<{m}>" for m in _BARE_ID.findall(value)]
    return tuple(dict.fromkeys(found))


def _decoded(message: Message, name: str, defects: list[str]) -> str | None:
    raw = raw_header(message, name)
    if raw is None:
        return None
    value, defect = decode_header(raw)
    if defect:
        defects.append(f"{name}: {defect}")
    return value


def _addresses(message: Message, name: str, defects: list[str]) -> tuple[Address, ...]:
    values = [str(v) for k, v in message.raw_items() if k.lower() == name.lower()]
    if not values:
        return ()
    single = _ONE_ADDRESS.fullmatch(values[0]) if len(values) == 1 else None
    if single:  # most fields: one address, read without the stdlib's slow address parser
        quoted, bare_name, bracketed, bare = single.groups()
        display = _UNQUOTE.sub(r"\1", quoted) if quoted is not None else (bare_name or "")
        address = decode_header(bracketed or bare)[0].lower()
        return (Address(name=decode_header(display)[0], address=address),)
    try:
        pairs = email.utils.getaddresses(values)
    except Exception:  # a hostile field must not lose the message
        defects.append(f"{name}: unreadable addresses")
        return ()
    out: list[Address] = []
    for display, address in pairs[:MAX_ADDRESSES]:
        addr, _ = decode_header(address)
        if not addr and not display:
            continue
        out.append(Address(name=decode_header(display)[0], address=addr.lower()))
    if len(pairs) > MAX_ADDRESSES:
        defects.append(f"{name}: more than {MAX_ADDRESSES} addresses, the rest ignored")
    if not any(a.address for a in out) and any(v.strip() for v in values):
        defects.append(f"{name}: no readable address")
    return tuple(a for a in out if a.address)


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _top_content_type(message: Message) -> str:
    try:
        return part_headers(message).content_type
    except Exception:
        return "text/plain"
