"""API models of callbacks (also the payload of their events)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from relais.channels.callback.domain import Outcome, VisitorStatus


class SlotOut(BaseModel):
    start: datetime
    end: datetime


class SlotsOut(BaseModel):
    """When a callback can be asked for: now (while the queue is open) or one of the slots."""

    open_now: bool
    timezone: str  # the queue's, for showing the slots in its time
    slot_minutes: int
    slots: list[SlotOut]


class CallbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: str = Field(min_length=1, max_length=40, description="as typed; made E.164")
    # ISO region for a number typed in its national form ("06 12 34 56 78" with "FR").
    region: str | None = Field(default=None, pattern=r"^[A-Za-z]{2}$")
    reason: str = Field(default="", max_length=500)
    consent: bool = Field(description="the visitor agrees to be called on this number")
    # None: as soon as possible (while the queue is open); else a slot from GET /slots.
    slot_start: AwareDatetime | None = None
    slot_end: AwareDatetime | None = None
    conversation_id: str | None = Field(default=None, max_length=32)
    page_url: str | None = Field(default=None, max_length=2000)
    page_title: str | None = Field(default=None, max_length=300)

    @field_validator("number", "reason", "conversation_id", "page_url", "page_title")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        # NUL and other control characters: refused here rather than by the database (which
        # would answer an error 500 for a NUL on PostgreSQL). Line breaks of a reason are fine.
        if value is not None and any(
            (ord(c) < 32 and c not in "\t\n\r") or c == "\x7f" for c in value
        ):
            raise ValueError("control characters are not allowed")
        return value


class TimeIn(BaseModel):
    """A new time: a slot, or both None for "as soon as possible"."""

    model_config = ConfigDict(extra="forbid")

    slot_start: AwareDatetime | None = None
    slot_end: AwareDatetime | None = None


class OutcomeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Outcome


class AttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    agent_id: str
    started_at: datetime
    outcome: Outcome | None
    ended_at: datetime | None


class CallbackOut(BaseModel):
    """A callback as its visitor, its agent and supervisors see it."""

    id: str
    task_id: str
    status: VisitorStatus
    number: str
    reason: str
    lang: str
    consent_at: datetime
    slot_start: datetime | None
    slot_end: datetime | None
    conversation_id: str | None
    page_url: str | None
    page_title: str | None
    attempts: list[AttemptOut]
    max_attempts: int
    next_attempt_at: datetime | None
    outcome: Literal["reached", "wrong_number", "unreachable", "cancelled"] | None
    created_at: datetime
    ended_at: datetime | None


class DialOut(BaseModel):
    """The call placed for the agent: with the default dialler, a ``tel:`` link to open."""

    call: str
    callback: CallbackOut
