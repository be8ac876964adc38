"""The MIME tree of a message, read by the standard library within fixed bounds. Never raises.

The stdlib parser is robust on malformed mail but has no limits of its own: a million header
lines, a million empty parts or parts nested a thousand deep cost it memory and time without end
(nesting costs per line read, and past ~900 levels it dies of RecursionError). So:

* the header section is cut to ``max_header_bytes`` and ``max_headers`` fields before parsing,
  keeping the few fields further down that the parse needs (Content-Type...);
* every header field, of the message and of its parts, is cut to ``_MAX_FIELD`` characters
  (Content-* fields to ``_MAX_CONTENT_FIELD``) as it is read;
* the parser's message factory counts parts and nesting as they are created; past
  ``max_parts`` / ``max_depth`` no more input is fed to the parser (it is fed in small chunks);
* failing all that, the bare header section and the body as text.

The policy is ``compat32``, not ``policy.default``: the latter's header parser is quadratic or
worse on hostile parameter lists and the tree parser calls it on every part's Content-Type (a
16 KB Content-Type of semicolons took 6 s, 64 KB took 105 s; compat32: 60 ms and 210 ms). Header
values are decoded by ``charset`` instead, and parameters (RFC 2231 included) read by compat32.
Every cut is reported as a defect.
"""

from __future__ import annotations

import email.message
import email.utils
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from email.feedparser import BytesFeedParser
from email.parser import BytesHeaderParser
from email.policy import Compat32, Policy
from typing import Any, Literal

from relais.channels.email.charset import decode_bytes, decode_header

Message = email.message.Message
Disposition = Literal["attachment", "inline"]

_FEED_CHUNK = 16 * 1024
_BLANK_LINE = re.compile(rb"\r?\n\r?\n")
_FIELD_START = re.compile(rb"\n(?=[^ \t\r\n])")
# Fields kept from a header section cut short: without them the body cannot be read.
_NEEDED_FIELDS = re.compile(
    rb"^(?:content-type|content-transfer-encoding|mime-version|message-id|from|subject|date"
    rb"|in-reply-to|references)[ \t]*:[^\n]{0,2000}\n(?:[ \t][^\n]{0,2000}\n){0,20}",
    re.IGNORECASE | re.MULTILINE,
)
_MAX_FIELD = 64 * 1024
_MAX_CONTENT_FIELD = 4 * 1024  # RFC 2231 continuations of a 255-character file name fit
_REFERENCES_HEAD = 1024
_MAX_FILENAME = 255
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


@dataclass(frozen=True, slots=True)
class Limits:
    max_bytes: int
    max_header_bytes: int
    max_headers: int
    max_parts: int
    max_depth: int


@dataclass(frozen=True, slots=True, eq=False)
class Attachment:
    """A part that is not the message's text: a file, an inline image, a returned message.

    The bytes are decoded from the parsed tree on each ``data()`` call rather than kept, so that a
    large attachment is not held twice (encoded in the tree and decoded here) for the whole life
    of the ``ParsedMail``: the store writes them once and lets them go.
    """

    filename: str | None
    content_type: str
    size: int
    content_id: str | None  # without the angle brackets, as ``cid:`` URLs name it
    disposition: Disposition
    path: str  # position in the MIME tree ("1.2"), stable for a given raw message
    _load: Callable[[], bytes] = field(repr=False)

    def data(self) -> bytes:
        """The decoded content (base64 / quoted-printable undone); never decompressed."""
        return self._load()


@dataclass(slots=True)
class Body:
    text: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    parts: int = 0
    noted: dict[int, int] = field(default_factory=dict)  # id(part) -> defects already reported


@dataclass(frozen=True, slots=True)
class PartHeaders:
    content_type: str
    charset: str | None
    filename: str | None
    disposition: str | None
    content_id: str | None


class _BoundedCompat32(Compat32):
    """compat32, with every header field cut as it is read (References keeps its two ends)."""

    def header_source_parse(self, sourcelines: list[str]) -> tuple[str, str]:
        name, value = super().header_source_parse(sourcelines)
        cap = _MAX_CONTENT_FIELD if name[:8].lower() == "content-" else _MAX_FIELD
        if len(value) > cap:
            if name.lower() == "references":  # the root and the newest ids are the useful ones
                value = value[:_REFERENCES_HEAD] + " " + value[-(cap - _REFERENCES_HEAD) :]
            else:
                value = value[:cap]
        return name, value


POLICY = _BoundedCompat32()


class _Guard:
    """The parser's message factory: counts parts and nesting; says when a limit is passed."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.parser: BytesFeedParser[Any] | None = None
        self.parts = 0
        self.exceeded: str | None = None

    def __call__(self, policy: Policy | None = None) -> Message:
        if self.parser is not None:  # the parser calls it once while it is built
            self.parts += 1
            # The parser's stack of open parts is the nesting; it has no public accessor.
            depth = len(getattr(self.parser, "_msgstack", ()))
            if self.parts > self.limits.max_parts:
                self.exceeded = self.exceeded or f"more than {self.limits.max_parts} MIME parts"
            elif depth >= self.limits.max_depth:
                self.exceeded = self.exceeded or (
                    f"MIME parts nested deeper than {self.limits.max_depth}"
                )
        return Message(policy=POLICY)


def read_tree(raw: bytes, limits: Limits) -> tuple[Message, list[str]]:
    """The message tree of ``raw`` within ``limits``, and what had to be cut or repaired."""
    defects: list[str] = []
    data = raw
    if len(data) > limits.max_bytes:
        data = data[: limits.max_bytes]
        defects.append(f"message of {len(raw)} bytes: only the first {limits.max_bytes} read")
    data = _bound_headers(data, limits, defects)
    try:
        return _parse(data, limits, defects), defects
    except Exception as exc:  # RecursionError and the like: keep what can be read
        defects.append(f"MIME parse failed: {type(exc).__name__}")
    head = data[: m.start()] if (m := _BLANK_LINE.search(data)) else data
    message = BytesHeaderParser(policy=POLICY).parsebytes(head)
    message.set_payload(data[len(head) :].lstrip(b"\r\n").decode("ascii", "surrogateescape"))
    defects.append("body kept as unparsed text")
    return message, defects


def _bound_headers(data: bytes, limits: Limits, defects: list[str]) -> bytes:
    if data.startswith((b"\n", b"\r\n")):
        return data  # no header section at all
    end = _BLANK_LINE.search(data, 0, limits.max_header_bytes + 4)
    too_big = end is None and len(data) > limits.max_header_bytes
    cut = end.start() if end is not None else min(len(data), limits.max_header_bytes)
    too_many = False
    if data.count(b"\n", 0, cut) >= limits.max_headers:
        for count, match in enumerate(_FIELD_START.finditer(data, 0, cut), start=2):
            if count > limits.max_headers:
                cut, too_many = match.start() + 1, True
                break
    if not (too_big or too_many):
        return data
    # A field cut in its middle keeps its start; the rest of its line goes with the dropped.
    line_end = data.find(b"\n", cut - 1)
    rest = line_end + 1 if line_end >= 0 else len(data)
    body = end if end is not None else _BLANK_LINE.search(data, max(line_end - 1, 0))
    dropped_end = body.end() if body else len(data)
    # Fields the rest of the parse needs, should they be down in the dropped part.
    kept = b"".join(m.group(0) for m in _NEEDED_FIELDS.finditer(data, rest, dropped_end))
    defects.append(
        f"header section over {limits.max_header_bytes} bytes or {limits.max_headers} fields: "
        f"{dropped_end - cut} bytes of fields dropped"
    )
    head = data[:cut] if data[:cut].endswith(b"\n") else data[:cut] + b"\n"
    return head + kept + (b"\n" + data[body.end() :] if body else b"")


def _parse(data: bytes, limits: Limits, defects: list[str]) -> Message:
    guard = _Guard(limits)
    parser: BytesFeedParser[Any] = BytesFeedParser(_factory=guard, policy=POLICY)
    guard.parser = parser
    for start in range(0, len(data), _FEED_CHUNK):
        parser.feed(data[start : start + _FEED_CHUNK])
        if guard.exceeded:  # parts of the chunk past the limit are ignored by the walk
            defects.append(f"{guard.exceeded}: read up to byte {start + _FEED_CHUNK} only")
            break
    message: Message = parser.close()
    return message


def walk(message: Message, limits: Limits) -> Body:
    """The readable text, HTML and attachments of a message tree, in document order."""
    body = Body()
    _walk(message, "1", 0, limits, body)
    return body


def _walk(part: Message, path: str, depth: int, limits: Limits, body: Body) -> None:
    body.parts += 1
    if body.parts > limits.max_parts:
        if body.parts == limits.max_parts + 1:
            body.defects.append(f"more than {limits.max_parts} MIME parts: the rest ignored")
        return
    try:
        info = part_headers(part)
        payload = part.get_payload()
        _note_defects(part, path, body)
        _note_cut_fields(part, path, body)
        if isinstance(payload, list) and not info.content_type.startswith("message/"):
            if depth >= limits.max_depth:
                body.defects.append(f"part {path}: nested deeper than {limits.max_depth}")
                return
            for index, sub in enumerate(payload, start=1):
                if isinstance(sub, Message):
                    _walk(sub, f"{path}.{index}", depth + 1, limits, body)
            return
        if depth > 0 and _inlined_message(part):
            body.attachments.append(_attachment(part, _AS_MESSAGE, path, body, whole=True))
            return
        content_type = info.content_type
        if content_type.startswith("multipart/"):
            content_type = "text/plain"  # a multipart the parser could not split: its text
        readable = content_type in ("text/plain", "text/html")
        if readable and info.disposition != "attachment" and info.filename is None:
            data = _leaf_bytes(part)
            text, defect = decode_bytes(data, info.charset)
            if "\r" in text:  # one line ending for whoever stores or shows it
                text = text.replace("\r\n", "\n").replace("\r", "\n")
            (body.text if content_type == "text/plain" else body.html).append(text)
            _note_defects(part, path, body)
            if defect:
                body.defects.append(f"part {path} ({content_type}): {defect}")
            return
        body.attachments.append(_attachment(part, info, path, body))
    except Exception as exc:  # one unreadable part must not lose the others
        body.defects.append(f"part {path}: unreadable ({type(exc).__name__})")


def part_headers(part: Message) -> PartHeaders:
    """Content type and parameters of a part, read from its raw header values."""
    fields = {k.lower(): v for k, v in reversed(list(part.raw_items()))}  # the first of each wins
    type_value, type_params = _params(fields.get("content-type"))
    disposition, disposition_params = _params(fields.get("content-disposition"))
    content_type = type_value if type_value.count("/") == 1 else "text/plain"
    if not type_value:
        content_type = part.get_default_type()
    filename = disposition_params.get("filename") or type_params.get("name")
    content_id = fields.get("content-id")
    return PartHeaders(
        content_type=content_type,
        charset=type_params.get("charset"),
        filename=safe_filename(decode_header(filename)[0]) if filename else None,
        disposition=disposition or None,
        content_id=decode_header(content_id)[0].strip().strip("<>").strip() or None
        if content_id
        else None,
    )


def _params(value: str | None) -> tuple[str, dict[str, str]]:
    """A field's value (lowercased) and parameters, RFC 2231 continuations and charsets undone."""
    if value is None:
        return "", {}
    view = email.message.Message()  # compat32: plain parameter parsing
    view["X"] = _first_params(value)
    items = view.get_params(header="x") or []
    params: dict[str, str] = {}
    for name, raw in items[1:]:
        text = email.utils.collapse_rfc2231_value(raw) if isinstance(raw, tuple) else raw
        params.setdefault(name.lower(), str(text))
    main = items[0][0].strip().lower() if items else ""
    return main, params


def safe_filename(name: str) -> str | None:
    """A file name safe to store and offer: no directory, no leading dots, 255 characters."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip().lstrip(".").strip()
    if len(name) > _MAX_FILENAME:
        stem, dot, extension = name.rpartition(".")
        extension = extension[:16] if dot and stem else ""
        name = name[: _MAX_FILENAME - len(extension) - 1] + "." + extension if extension else name
        name = name[:_MAX_FILENAME]
    return name or None


def _first_params(value: str, count: int = 32) -> str:
    """The value with its first ``count`` parameters: compat32 reads each call in O(n²)."""
    cut = -1
    for _ in range(count):
        cut = value.find(";", cut + 1)
        if cut < 0:
            return value
    return value[:cut]


def raw_header(part: Message, name: str) -> str | None:
    """The first value of a header as the parser read it (folded, undecoded)."""
    wanted = name.lower()
    for key, value in part.raw_items():
        if key.lower() == wanted:
            return str(value)
    return None


def _inlined_message(part: Message) -> bool:
    """A part whose header is a message's own: a returned message without its wrapper."""
    names = {k.lower() for k, _ in part.raw_items()}
    return bool(names & {"message-id", "received", "return-path"}) and bool(
        names & {"from", "date", "subject"}
    )


_AS_MESSAGE = PartHeaders("message/rfc822", None, None, None, None)


def _attachment(
    part: Message, info: PartHeaders, path: str, body: Body, *, whole: bool = False
) -> Attachment:
    def load() -> bytes:
        return _message_bytes(part) if whole else _part_bytes(part, info.content_type)

    size = len(load())  # decoded once to know the size and find bad encodings, then let go
    _note_defects(part, path, body)
    inline = info.disposition == "inline" or (info.disposition is None and info.content_id)
    return Attachment(
        filename=info.filename,
        content_type=info.content_type,
        size=size,
        content_id=info.content_id,
        disposition="inline" if inline else "attachment",
        path=path,
        _load=load,
    )


def _part_bytes(part: Message, content_type: str) -> bytes:
    if not content_type.startswith("message/"):
        return _leaf_bytes(part)
    payload = part.get_payload()
    if not isinstance(payload, list):
        return _leaf_bytes(part)
    # An enclosed message, or the header blocks of a delivery-status: written back as read.
    return b"\n".join(_message_bytes(sub) for sub in payload if isinstance(sub, Message))


def _message_bytes(message: Message) -> bytes:
    try:
        return message.as_bytes(policy=POLICY)
    except Exception:  # the generator chokes on some broken trees: headers only
        head = "".join(f"{k}: {v}\n" for k, v in message.raw_items())
        return head.encode("utf-8", "surrogateescape") + b"\n"


def _leaf_bytes(part: Message) -> bytes:
    data = part.get_payload(decode=True)
    if isinstance(data, bytes):
        return data
    payload = part.get_payload()
    return payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""


def _note_cut_fields(part: Message, path: str, body: Body) -> None:
    for name, value in part.raw_items():
        cap = _MAX_CONTENT_FIELD if name[:8].lower() == "content-" else _MAX_FIELD
        if len(value) >= cap:
            body.defects.append(f"part {path}: {name} cut to {cap} characters")


def _note_defects(part: Message, path: str, body: Body) -> None:
    """The stdlib's defects of a part (parse, then decoding), each reported once."""
    seen = body.noted.get(id(part), 0)
    for defect in part.defects[seen:]:
        name = _CAMEL.sub(" ", type(defect).__name__.removesuffix("Defect")).lower()
        body.defects.append(f"part {path}: {name}")
    body.noted[id(part)] = len(part.defects)
