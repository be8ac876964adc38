"""Bounces written for people: the failed recipients in the text of the many MTA dialects.

qmail, Exim, Sendmail, Postfix without DSN, Exchange 2003, Lotus Domino, Yahoo, Gmail's old
format, mail.ru, IMail, OpenSMTPD and the rest each word their report differently, but nearly
all of them put a failed address in one of a few places, which is what is looked for here rather
than each dialect's exact sentences:

* at the start of a line, alone or followed by a reason (``<a@b>:``, ``a@b ... unknown host``,
  ``a@b on 4/29/01``, ``>>> a@b``, ``* a@b``);
* after a phrase that names a recipient (``RCPT TO:<a@b>``, ``Recipient address: a@b``,
  ``could not be delivered to: a@b``, ``Unknown user: a@b``, ``Final-Recipient: rfc822; a@b``).

Only the report is searched: the returned copy of the original message, which most dialects
append to the text after a marker line or as a bare header block, is cut off first (its From and
To would otherwise look like recipients); its header block is read separately.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.parser import HeaderParser
from email.policy import compat32

ADDRESS = r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+"
_ADDRESS = re.compile(ADDRESS)

# Where a dialect says the copy of the message starts.
_RETURNED_MARK = re.compile(
    r"^[\s|>-]*(?:"
    r"-+\s*(?:This is a copy of|Original message|Returned Message|Unsent message follows"
    r"|original mail info|The header of the original message|Below this line is a copy"
    r"|Enclosed is a copy|original message)"
    r"|(?:-+\s*)?(?:Original message follows|Message headers follow|Below is a copy of the original"
    r"|Included is a copy of the message header|Original message headers|Original Message:"
    r"|Message text follows|Below this line is a copy of the message)"
    r")",
    re.IGNORECASE | re.MULTILINE,
)
_HEADER_LINE = re.compile(r"^([A-Za-z][A-Za-z0-9-]{1,40}):[ \t]?\S?")
_CONTINUATION = re.compile(r"^[ \t]+\S")
# Fields only a message's own header has: neither delivery-status fields nor the To/Subject
# summary some reports start with (IMail, Exchange 2003).
_MESSAGE_FIELDS = {
    "return-path", "received", "message-id", "dkim-signature", "delivered-to", "x-received",
    "mime-version", "arc-seal", "authentication-results", "content-type",
}  # fmt: skip

# The address first on its line: "<a@b>:", "a@b on 4/29/01", "  a@b", ">>> a@b", "554 <a@b>...".
_AT_LINE_START = re.compile(
    rf"^[ \t]*(?:>>>|\*|-|•|[45]\d\d[ -](?=<))?[ \t]*[<\"']?({ADDRESS})", re.MULTILINE
)
_NAMED = re.compile(
    r"(?:RCPT\s+TO|Recipient(?:\s+address)?|Final-Recipient|Original-Recipient|Address"
    r"|Unknown\s+user|Invalid\s+final\s+delivery\s+userid|Delivery\s+failed|Failed\s+address"
    r"|following\s+recipients?(?:\s+returned\s+permanent\s+errors)?|undeliverable\s+to"
    r"|could\s+not\s+be\s+delivered\s+to|delivering\s+your\s+mail\s+to|deliver(?:\s+your)?"
    r"\s+message\s+to|not\s+reach\s+the\s+following\s+recipient|find\s+a\s+gateway\s+for"
    r"|member\s+of\s+this\s+mailing\s+list)"
    rf"[ \t]*[:;]?[ \t]*(?:rfc822[ \t]*;)?[ \t]*[<\"']?({ADDRESS})",
    re.IGNORECASE,
)
_STATUS = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")
_DELAYED = re.compile(
    r"\bdelayed\b|\bdelay\)|will (?:continue|keep) (?:trying|retrying)|still being retried"
    r"|temporary failure|^Warning: message",
    re.IGNORECASE | re.MULTILINE,
)


@dataclass(frozen=True, slots=True)
class TextRecipient:
    address: str
    status: str | None
    diagnostic: str | None


def split_returned(text: str) -> tuple[str, str]:
    """The report, and the returned copy of the message (its headers first) that follows it."""
    mark = _RETURNED_MARK.search(text)
    end = mark.start() if mark else len(text)
    block = _first_header_block(text, 0, end)
    if block is not None:
        return text[:block], text[block:]
    if mark:
        line_end = text.find("\n", mark.end())
        return text[: mark.start()], text[line_end + 1 :] if line_end >= 0 else ""
    return text, ""


def _first_header_block(text: str, start: int, end: int) -> int | None:
    """Where, before ``end``, three header lines or more of a message start at column 0."""
    offset = start
    run_start: int | None = None
    run = 0
    message_like = False
    for line in text[start:end].splitlines(keepends=True):
        match = _HEADER_LINE.match(line)
        if match:
            if run == 0:
                run_start, message_like = offset, False
            run += 1
            message_like = message_like or match.group(1).lower() in _MESSAGE_FIELDS
        elif run and _CONTINUATION.match(line):
            pass
        else:
            if run >= 3 and message_like:
                return run_start
            run = 0
        offset += len(line)
    return run_start if run >= 3 and message_like else None


def starts_with_header(text: str) -> bool:
    """Whether ``text`` opens with a message's header block (a returned copy, say)."""
    return _first_header_block(text, 0, min(len(text), 4096)) == 0


def returned_headers(returned: str) -> dict[str, list[str]]:
    """The header fields of a returned copy given as text (lowercased names)."""
    lines = returned.lstrip("\r\n").splitlines()[:400]
    head: list[str] = []
    for line in lines:
        if not line.strip():
            break
        if _HEADER_LINE.match(line) or (head and _CONTINUATION.match(line)):
            head.append(line)
        elif head:
            break
    parsed = HeaderParser(policy=compat32).parsestr("\n".join(head) + "\n\n")
    fields: dict[str, list[str]] = {}
    for name, value in parsed.items():
        fields.setdefault(name.lower(), []).append(str(value))
    return fields


def recipients_in(report: str) -> list[TextRecipient]:
    """The failed recipients a report names, in order of appearance, each once.

    When the addresses a phrase names and those first on their lines have none in common, the
    phrase wins: a lone address on a line is then an instruction ("write to list-ctl@...").
    """
    leading = {m.group(1).lower(): m for m in reversed(list(_AT_LINE_START.finditer(report)))}
    named = {m.group(1).lower(): m for m in reversed(list(_NAMED.finditer(report)))}
    if named and leading and not named.keys() & leading.keys():
        leading = {}
    found: dict[str, tuple[int, int]] = {}
    for address, match in [*leading.items(), *named.items()]:
        if address not in found or match.start(1) < found[address][0]:
            found[address] = (match.start(1), match.end())
    out = []
    for address, (_, end) in sorted(found.items(), key=lambda item: item[1][0]):
        after = report[end : end + 600]
        paragraph = re.split(r"\n\s*\n", after, maxsplit=1)[0]
        status = _STATUS.search(paragraph)
        diagnostic = " ".join(paragraph.split())[:300] or None
        out.append(TextRecipient(address, status.group(1) if status else None, diagnostic))
    return out


def is_delay(subject: str, report: str) -> bool:
    return bool(_DELAYED.search(subject) or _DELAYED.search(report))


def addresses(value: str) -> list[str]:
    return [a.lower() for a in _ADDRESS.findall(value)]
