"""Service-level targets of e-mail: when the first answer and the resolution are due, and what
to do when a mail is about to miss them or has. Pure: time and the queue's hours are arguments.

Targets are in business minutes when the queue has business hours (``routing/hours.py``): a
2-hour first-response target for a mail that arrives Friday at 17:30, in a queue open 09:00-18:00
on weekdays, is due Monday at 10:30. Without hours, in plain minutes.

``check`` is called by a timer (and after any change to the mail's conversation) with what has
already been done (``SlaState.escalated``) and returns only what is new: warn the supervisor
when ``warn_at`` of the time has gone, raise the priority and tell the supervisor again at the
breach. Applying its answer and calling it again returns nothing more: the timer may run twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from relais.routing.hours import BusinessHours

Clock = Literal["first_response", "resolution"]
Level = Literal["at_risk", "breached"]
Status = Literal["none", "on_time", "at_risk", "breached", "met", "missed"]
MAX_SPANS: Final = 10_000  # opening periods crossed to reach a due time: years of them


class Target(BaseModel):
    """The targets of the mails of ``queue`` (None: any queue) at ``min_priority`` or above."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    queue: str | None = None
    min_priority: int | None = None
    first_response_minutes: int | None = Field(default=None, gt=0, le=366 * 24 * 60)
    resolution_minutes: int | None = Field(default=None, gt=0, le=366 * 24 * 60)
    business_hours: bool = True  # count only the queue's open time


class Escalation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    warn_at: float = Field(default=0.8, gt=0.0, lt=1.0)  # share of the target that sets "at risk"
    raise_priority_by: int = Field(default=1, ge=0, le=100)
    max_priority: int = Field(default=100, ge=-100, le=100)


class SlaPolicy(BaseModel):
    """Targets, the most specific winning: a queue's over any queue's, then the highest
    ``min_priority`` the mail reaches."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    targets: tuple[Target, ...] = Field(default=(), max_length=1000)
    escalation: Escalation = Escalation()

    def target_for(self, queue: str | None, priority: int) -> Target | None:
        fitting = [
            t
            for t in self.targets
            if t.queue in (None, queue) and (t.min_priority is None or priority >= t.min_priority)
        ]
        if not fitting:
            return None
        return max(
            fitting,
            key=lambda t: (
                t.queue is not None,
                t.min_priority if t.min_priority is not None else -(10**9),
            ),
        )


@dataclass(frozen=True, slots=True)
class DueTimes:
    first_response: datetime | None  # None: no target, or the queue never opens
    resolution: datetime | None
    business_hours: bool = True  # counted in the queue's open time


@dataclass(frozen=True, slots=True)
class SlaState:
    """What the store keeps of one mail's conversation for its SLA."""

    received_at: datetime
    priority: int
    due: DueTimes
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    escalated: frozenset[str] = frozenset()  # keys of the escalations already applied


@dataclass(frozen=True, slots=True)
class Step:
    """One thing to do now. ``key`` goes into ``SlaState.escalated`` once done."""

    key: str  # "first_response:at_risk"...
    clock: Clock
    level: Level
    notify_supervisor: bool
    new_priority: int | None  # None: unchanged


def due_times(
    policy: SlaPolicy,
    queue: str | None,
    priority: int,
    received_at: datetime,
    hours: BusinessHours | None,
) -> DueTimes:
    """When the first answer and the resolution of a mail received at ``received_at`` are due."""
    target = policy.target_for(queue, priority)
    if target is None:
        return DueTimes(None, None)
    counted = hours if target.business_hours else None
    return DueTimes(
        _due(received_at, target.first_response_minutes, counted),
        _due(received_at, target.resolution_minutes, counted),
        business_hours=counted is not None,
    )


def add_open_time(start: datetime, seconds: float, hours: BusinessHours | None) -> datetime | None:
    """``start`` plus ``seconds`` of the queue's open time; None if it never opens enough."""
    if hours is None:
        return start + timedelta(seconds=seconds)
    remaining, at = seconds, start
    for _ in range(MAX_SPANS):
        opens = hours.next_open(at)
        if opens is None:
            return None
        closes = hours.next_close(opens)
        if closes is None or (closes - opens).total_seconds() >= remaining:
            return opens + timedelta(seconds=remaining)
        remaining -= (closes - opens).total_seconds()
        at = closes
    return None


def status(
    state: SlaState, now: datetime, policy: SlaPolicy, hours: BusinessHours | None
) -> dict[Clock, Status]:
    """Where each clock stands, for the desk: met, missed, running (on time, at risk,
    breached), or none (no target)."""
    found: dict[Clock, Status] = {}
    for clock, due, stopped_at in _clocks(state):
        if due is None:
            found[clock] = "none"
        elif stopped_at is not None:
            found[clock] = "met" if stopped_at <= due else "missed"
        else:
            found[clock] = _level(state, due, now, policy.escalation, hours) or "on_time"
    return found


def check(
    state: SlaState, now: datetime, policy: SlaPolicy, hours: BusinessHours | None
) -> list[Step]:
    """The escalations due at ``now`` that ``state.escalated`` does not hold yet. A clock that
    stopped (answered, resolved) escalates nothing; a breach found without the warning before
    it (the timer was late) is the breach alone."""
    steps: list[Step] = []
    priority = state.priority
    for clock, due, stopped_at in _clocks(state):
        if due is None or stopped_at is not None:
            continue
        level = _level(state, due, now, policy.escalation, hours)
        key = f"{clock}:{level}"
        if level is None or key in state.escalated:
            continue
        new_priority = None
        if level == "breached":
            raised = min(priority + policy.escalation.raise_priority_by,
                         policy.escalation.max_priority)  # fmt: skip
            if raised > priority:
                new_priority = priority = raised
        steps.append(Step(key, clock, level, True, new_priority))
    return steps


def _clocks(state: SlaState) -> tuple[tuple[Clock, datetime | None, datetime | None], ...]:
    # A mail resolved without an answer (spam, a duplicate) has no first response to wait for.
    first = state.first_response_at or state.resolved_at
    return (
        ("first_response", state.due.first_response, first),
        ("resolution", state.due.resolution, state.resolved_at),
    )


def _due(start: datetime, minutes: int | None, hours: BusinessHours | None) -> datetime | None:
    return None if minutes is None else add_open_time(start, minutes * 60.0, hours)


def _level(
    state: SlaState,
    due: datetime,
    at: datetime,
    escalation: Escalation,
    hours: BusinessHours | None,
) -> Level | None:
    if at >= due:
        return "breached"
    counted = hours if state.due.business_hours else None
    target = _elapsed(state.received_at, due, counted)
    if target > 0 and _elapsed(state.received_at, at, counted) >= escalation.warn_at * target:
        return "at_risk"
    return None


def _elapsed(start: datetime, end: datetime, hours: BusinessHours | None) -> float:
    if hours is None:
        return max(0.0, (end - start).total_seconds())
    return hours.open_seconds_between(start, end)
