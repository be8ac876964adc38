"""Bytes and header values to text, whatever charset they claim. Never raises.

Mail in the wild mislabels its charset all the time: iso-8859-1 that is really windows-1252 (curly
quotes in 0x80-0x9F), "us-ascii" with UTF-8 in it, UTF-8 labelled iso-8859-1, labels Python does
not know (x-unknown, iso-8859-8-i) and 8-bit bytes in headers with no label at all. Each function
returns the best text it can and, when it had to guess, a defect saying what it guessed, so that a
clean message can be told from a repaired one.

Labels are mapped as the WHATWG Encoding Standard maps them (what browsers and mail clients do):
iso-8859-1 and us-ascii read as windows-1252, gb2312 as gb18030, shift_jis as cp932 and so on.
"""

from __future__ import annotations

import binascii
import codecs
import re

# WHATWG label -> the superset Python codec that mail labelled so is really written in.
_WINDOWS_1252 = (
    "us-ascii", "ascii", "ansi_x3.4-1968", "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1",
    "latin-1", "l1", "cp819", "ibm819", "windows-1252", "cp1252", "x-cp1252",
)  # fmt: skip
_ALIASES = {
    **dict.fromkeys(_WINDOWS_1252, "cp1252"),
    **dict.fromkeys(("iso-8859-9", "latin5", "windows-1254"), "cp1254"),
    **dict.fromkeys(("iso-8859-11", "tis-620", "windows-874", "x-windows-874"), "cp874"),
    **dict.fromkeys(("ks_c_5601-1987", "ks_c_5601", "ksc5601", "euc-kr", "windows-949"), "cp949"),
    **dict.fromkeys(("gb2312", "gbk", "x-gbk", "gb_2312-80", "cp936", "euc-cn"), "gb18030"),
    **dict.fromkeys(
        ("shift_jis", "shift-jis", "sjis", "x-sjis", "ms_kanji", "windows-31j"), "cp932"
    ),
    **dict.fromkeys(("iso-8859-8-i", "iso-8859-8-e", "visual", "logical"), "iso8859-8"),
    **dict.fromkeys(("x-mac-roman", "mac", "macintosh"), "mac-roman"),
    **dict.fromkeys(("big5", "big5-hkscs", "x-x-big5"), "big5hkscs"),
    **dict.fromkeys(("utf8", "unicode-1-1-utf-8", "unicode20utf8", "x-unicode20utf8"), "utf-8"),
    "ucs-2": "utf-16",
}
# Python "text encodings" that are no mail charset and would turn text into something else.
_REFUSED_CODECS = {"undefined", "unicode-escape", "raw-unicode-escape", "idna", "punycode"}
# Codecs where ASCII bytes do not simply mean ASCII characters.
_NOT_ASCII_COMPATIBLE = ("utf-16", "utf-32", "utf-7", "iso2022", "hz")
_LATIN = {"cp1252", "iso8859-15", "cp1254"}

_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,75})\?([bBqQ])\?([^?]*)\?=")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
# Control characters in a header would let a decoded value inject lines into a reply's headers.
_HEADER_CONTROLS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_DECODED_NON_ASCII = re.compile(r"[^\x00-\x7f\ufffd]")


class UnknownCharset(str):
    """A charset label that names no text codec Python has."""


def codec_for(label: str | None) -> str | UnknownCharset | None:
    """The Python codec name for a MIME charset label; None when no label was given."""
    if label is None:
        return None
    name = label.strip().strip("\"'").lower()[:64]
    if not name:
        return None
    name = _ALIASES.get(name, name)
    try:
        info = codecs.lookup(name)
    except LookupError:
        return UnknownCharset(name)
    # Not a text encoding: base64, zlib, rot13... are codecs too, and no charset.
    if not info._is_text_encoding or info.name in _REFUSED_CODECS:
        return UnknownCharset(name)
    return info.name


def decode_bytes(data: bytes, charset: str | None) -> tuple[str, str | None]:
    """Text from ``data`` written in ``charset`` (a MIME label), and a defect when it guessed."""
    codec = codec_for(charset)
    ascii_safe = codec is None or not codec.startswith(_NOT_ASCII_COMPATIBLE)
    if ascii_safe and data.isascii():
        return _clean(data.decode("ascii"))
    if codec is None:
        text, guessed = _utf8_or_windows(data)
        return _clean(text, f"8-bit text without a charset, read as {guessed}")
    if isinstance(codec, UnknownCharset):
        try:
            return _clean(data.decode("utf-8"), f"unknown charset {codec!r}, read as UTF-8")
        except UnicodeDecodeError:
            text = data.decode("utf-8", "replace")
            return _clean(text, f"unknown charset {codec!r}: undecodable bytes replaced")
    if codec in _LATIN:
        # Valid UTF-8 with non-ASCII in it is almost never genuine Latin text: a mislabel.
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            return _clean(text, f"labelled {charset}, but is UTF-8")
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            text = data.decode("latin-1")  # the five bytes windows-1252 leaves undefined
        return _clean(text, "us-ascii text with 8-bit bytes" if _is_ascii_label(charset) else None)
    strict = _strict(data, codec)
    if strict is not None:
        return _clean(strict)
    if codec == "utf-8":
        text, guessed = _utf8_or_windows(data)
        return _clean(text, f"invalid UTF-8, read as {guessed}")
    try:
        return _clean(data.decode("utf-8"), f"labelled {charset}, but is UTF-8")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode(codec, "replace")
    except Exception:
        text = data.decode("utf-8", "replace")
    return _clean(text, f"invalid {charset} text: undecodable bytes replaced")


def decode_header(raw: str) -> tuple[str, str | None]:
    """A header value as read by the parser to text: unfolded, 8-bit and encoded words decoded.

    Control characters become spaces, so the value can never break out of a header again.
    """
    value = _FOLD.sub("", raw).strip()
    defect = None
    if not value.isascii():
        value, defect = _eight_bit(value)
    if "=?" in value:
        value, word_defect = _decode_words(value)
        defect = defect or word_defect
    if _HEADER_CONTROLS.search(value):
        value = _HEADER_CONTROLS.sub(" ", value)
        defect = defect or "control characters replaced by spaces"
    return value, defect


def _eight_bit(value: str) -> tuple[str, str | None]:
    """Raw 8-bit bytes (kept by the parser as surrogate escapes) to text: UTF-8, else Latin."""
    data = value.encode("utf-8", "surrogateescape")
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        text, guessed = _utf8_or_windows(data)
        return text, f"8-bit header read as {guessed}"


def _decode_words(value: str) -> tuple[str, str | None]:
    """RFC 2047 encoded words, joining adjacent ones first (encoders split characters across)."""
    out: list[str] = []
    pending = bytearray()
    pending_charset: str | None = None
    defect: str | None = None

    def flush() -> None:
        nonlocal pending_charset, defect
        if pending_charset is not None:
            text, d = decode_bytes(bytes(pending), pending_charset)
            out.append(text)
            defect = defect or d
        pending.clear()
        pending_charset = None

    pos = 0
    previous_was_word = False
    for match in _ENCODED_WORD.finditer(value):
        gap = value[pos : match.start()]
        if gap and not (previous_was_word and not gap.strip()):
            flush()
            out.append(gap)
        charset, encoding, text = match.groups()
        charset = charset.split("*", 1)[0].lower()  # RFC 2231 language suffix
        data = _word_bytes(encoding, text)
        if data is None:
            flush()
            out.append(match.group(0))
            defect = defect or "undecodable encoded word"
            previous_was_word = False
        else:
            if pending_charset is not None and charset != pending_charset:
                flush()
            pending_charset = charset
            pending.extend(data)
            previous_was_word = True
        pos = match.end()
    flush()
    out.append(value[pos:])
    return "".join(out), defect


def _word_bytes(encoding: str, text: str) -> bytes | None:
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        return None
    try:
        if encoding in "bB":
            raw = raw.strip()
            return binascii.a2b_base64(raw + b"=" * (-len(raw) % 4))
        return binascii.a2b_qp(raw, header=True)
    except (binascii.Error, ValueError):
        return None


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except Exception:  # some codecs raise more than UnicodeDecodeError
        return None


def _utf8_or_windows(data: bytes) -> tuple[str, str]:
    """UTF-8 when the bytes hold UTF-8 sequences (a few broken ones replaced), else windows-1252."""
    text = data.decode("utf-8", "replace")
    if "\ufffd" not in text:
        return text, "UTF-8"
    if _DECODED_NON_ASCII.search(text):
        return text, "UTF-8 with undecodable bytes replaced"
    return data.decode("cp1252", "replace"), "windows-1252"


def _is_ascii_label(label: str | None) -> bool:
    return (label or "").strip().strip("\"'").lower() in ("us-ascii", "ascii", "ansi_x3.4-1968")


def _clean(text: str, defect: str | None = None) -> tuple[str, str | None]:
    """NUL bytes out (PostgreSQL text refuses them), lone surrogates (UTF-7, UTF-16) replaced."""
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
        defect = _join(defect, "NUL bytes replaced")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
        defect = _join(defect, "unpaired surrogates replaced")
    return text, defect


def _join(first: str | None, second: str) -> str:
    return f"{first}; {second}" if first else second
