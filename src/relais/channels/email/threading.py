"""Which conversation a mail continues: Message-ID chains first, then the subject's reference.

``thread_keys`` gives the Message-IDs to look up, most specific first: In-Reply-To names the
message answered; References lists the thread oldest first, so it is read newest first (the
closest ancestor we know wins). Clients that drop both headers (some webmails, forwards, replies
written from a new message) still keep the subject, where outbound mail carries ``[#1234]``:
``find_reference`` finds it behind any number of "Re:", "RE :", "Fwd:", "TR:", "AW:"...
"""

from __future__ import annotations

import re

from relais.channels.email.parse import ParsedMail

MAX_REFERENCE = 10**12  # more digits than any conversation number: not ours
_REFERENCE = re.compile(r"\[\s*#\s*(\d{1,13})\s*\]")
# Reply and forward prefixes in the languages mail clients write them in, with the counters
# some add ("Re[2]:", "RE(3):") and the space French puts before a colon ("RE :", "TR :").
_PREFIX = re.compile(
    r"^\s*(?:(?:re|aw|sv|vs|antw|odp|res|rif|r|fwd?|tr|wg|enc|rv|doorst|réf|ref)"
    r"\s*(?:\[\d+\]|\(\d+\))?\s*:\s*)+",
    re.IGNORECASE,
)
_SPACES = re.compile(r"\s+")


def format_reference(number: int) -> str:
    """The token outbound subjects carry: ``[#1234]``."""
    if number <= 0:
        raise ValueError("a conversation number is positive")
    return f"[#{number}]"


def find_reference(subject: str) -> int | None:
    """The conversation number in a subject (the first token), or None."""
    for match in _REFERENCE.finditer(subject):
        number = int(match.group(1))
        if 0 < number < MAX_REFERENCE:
            return number
    return None


def normalise_subject(subject: str) -> str:
    """The subject without reply/forward prefixes, reference tokens and extra spaces."""
    text = _SPACES.sub(" ", _REFERENCE.sub(" ", subject))
    previous = None
    while previous != text:  # "Re: [#12] Fwd: x": tokens between prefixes
        previous = text
        text = _PREFIX.sub("", text).strip()
    return text


def reply_subject(subject: str, number: int) -> str:
    """The subject of an answer in conversation ``number``: ``Re: [#1234] <subject>``."""
    base = normalise_subject(subject)
    return f"Re: {format_reference(number)} {base}".rstrip()


def thread_keys(mail: ParsedMail) -> tuple[str, ...]:
    """Message-IDs to look up, in order: In-Reply-To, then References newest first."""
    keys = [mail.in_reply_to] if mail.in_reply_to else []
    keys.extend(reversed(mail.references))
    seen = {mail.message_id}
    ordered = []
    for key in keys:
        if key not in seen:
            seen.add(key)
            ordered.append(key)
    return tuple(ordered)
