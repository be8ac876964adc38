"""The e-mail channel's decisions. Pure: no I/O, no framework, time as an argument.

What becomes of an incoming mail (``disposition``), whether a subject's ``[#n]`` may be trusted
(``reference_trusted``), whom to answer (``reply_address``), whether to acknowledge
(``acknowledgement``), when an answer can be expected given the ACD's figures and the queue's
hours (``expected_answer_at``), and how long to wait before trying a failed send again
(``retry_delay``). The language is language.py's, the acknowledgement's text ack.py's.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from relais.channels.email.automatic import AutoVerdict
from relais.channels.email.parse import Address, ParsedMail
from relais.routing.hours import BusinessHours

# The languages Relais answers in (acknowledgements: ack.py; transcripts: transcript.py).
Language = Literal["en", "fr"]
Disposition = Literal["bounce", "automatic", "person"]


def disposition(verdict: AutoVerdict) -> Disposition:
    """A bounce marks what we sent as failed; other automatic mail is kept, never answered nor
    routed; only mail a person wrote reaches a conversation and the ACD."""
    if verdict.kind == "bounce":
        return "bounce"
    return "automatic" if verdict.automatic else "person"


def reply_address(mail: ParsedMail) -> Address | None:
    """Where an answer goes: the first Reply-To with an address, else From."""
    for address in mail.reply_to:
        if "@" in address.address:
            return address
    if mail.from_ is not None and "@" in mail.from_.address:
        return mail.from_
    return None


def reference_trusted(sender: str | None, known: Collection[str]) -> bool:
    """A ``[#n]`` in a subject is typed by anyone: it threads only mail from an address the
    conversation already knows (its customer's), or a stranger could write into it."""
    return sender is not None and sender.lower() in {a.lower() for a in known}


@dataclass(frozen=True, slots=True)
class AckDecision:
    send: bool
    reason: str


def acknowledgement(
    *,
    enabled: bool,
    new_conversation: bool,
    verdict: AutoVerdict,
    recipient: str | None,
    own_addresses: Collection[str],
    sent_last_hour: int,
    per_hour: int,
) -> AckDecision:
    """Whether a mail gets an automatic acknowledgement (RFC 3834's rules and a rate limit)."""
    if not enabled:
        return AckDecision(False, "acknowledgements are off")
    if not new_conversation:
        return AckDecision(False, "not a new conversation")
    if verdict.automatic:
        return AckDecision(False, f"automatic mail ({verdict.kind})")
    if verdict.suppress_auto_reply:
        return AckDecision(False, "the sender asks for no automatic reply")
    if recipient is None:
        return AckDecision(False, "no address to answer")
    if recipient.lower() in {a.lower() for a in own_addresses}:
        return AckDecision(False, "one of our own addresses")
    if sent_last_hour >= per_hour:
        return AckDecision(False, f"{sent_last_hour} acknowledgements to this sender this hour")
    return AckDecision(True, "")


def estimated_wait_s(
    *, waiting: int, agents: int, per_agent: int, aht_s: float | None, asa_s: float | None
) -> float | None:
    """Working seconds before this mail is answered: the engine's estimate (the mails ahead over
    the slots serving the queue, times the recent handling time), else today's average speed of
    answer, else unknown."""
    slots = agents * max(per_agent, 1)
    if aht_s is not None and slots > 0:
        return aht_s * (waiting + 1) / slots
    return asa_s


def expected_answer_at(
    now: datetime, wait_s: float | None, hours: BusinessHours | None
) -> datetime | None:
    """When the answer can be expected: ``wait_s`` of open time counted from ``now``."""
    if wait_s is None:
        return None
    if hours is None:
        return now + timedelta(seconds=wait_s)
    remaining = wait_s
    at = now
    for _ in range(1000):  # each turn crosses one opening span
        if not hours.is_open(at):
            opens = hours.next_open(at)
            if opens is None:
                return None
            at = opens
        closes = hours.next_close(at)
        if closes is None or (closes - at).total_seconds() >= remaining:
            return at + timedelta(seconds=remaining)
        remaining -= (closes - at).total_seconds()
        at = closes
    return None


def retry_delay(attempts: int, *, base_s: float, max_s: float) -> float:
    """Seconds before the next attempt after ``attempts`` failed ones: doubling, capped."""
    exponent = min(max(attempts - 1, 0), 30)
    return float(min(max_s, base_s * math.pow(2, exponent)))
