"""The conversation state machine and the rules of posting. Pure: no I/O, no framework.

    open ──(agent replies and waits)──> pending ──(visitor writes)──> open
      └──────────────(resolve)──────────────> resolved

A resolved conversation is closed for good: the visitor starts a new one (and is asked to rate
this one), so that reporting counts each contact once.
"""

from __future__ import annotations

import logging
import unicodedata
from typing import Literal

Status = Literal["open", "pending", "resolved"]
Command = Literal["visitor_message", "agent_message", "resolve"]

log = logging.getLogger(__name__)


class IllegalTransition(Exception):
    def __init__(self, status: Status, command: Command) -> None:
        super().__init__(f"cannot {command} a conversation that is {status}")
        self.status = status
        self.command = command


_TRANSITIONS: dict[tuple[Status, Command], Status] = {
    ("open", "visitor_message"): "open",
    ("pending", "visitor_message"): "open",
    ("open", "agent_message"): "pending",
    ("pending", "agent_message"): "pending",
    ("open", "resolve"): "resolved",
    ("pending", "resolve"): "resolved",
}


def transition(status: Status, command: Command, *, conversation_id: str = "") -> Status:
    try:
        new = _TRANSITIONS[(status, command)]
    except KeyError:
        raise IllegalTransition(status, command) from None
    if new != status:
        log.debug("conversation %s: %s -> %s -> %s", conversation_id, status, command, new)
    return new


class InvalidBody(ValueError):
    pass


# Control characters are dropped (they hide text or break terminals); newlines and tabs stay.
_KEEP = {"\n", "\t"}


def clean_body(body: str, *, max_chars: int) -> str:
    """Normalise what a person typed; refuse empty or oversized messages."""
    body = unicodedata.normalize("NFC", body.replace("\r\n", "\n").replace("\r", "\n"))
    if not body.replace("\n", "").replace("\t", "").isprintable():
        body = _drop_controls(body)
    body = body.strip()
    if len(body) > max_chars:
        raise InvalidBody(f"A message can have at most {max_chars} characters.")
    return body


def _drop_controls(body: str) -> str:
    # Only for a body with something unprintable (rare): a per-character pass is slow.
    return "".join(
        ch
        for ch in body
        if ch in _KEEP
        or not unicodedata.category(ch).startswith("C")
        or (unicodedata.category(ch) == "Cf" and ch == "\u200d")
    )
