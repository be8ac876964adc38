"""Contact-centre statistics from the recorded task transitions and presence changes. Pure.

The definitions, the trade's sources and the choices made are in docs/metrics.md (Definitions);
the code follows them point by point. In short:

* A task's *visit* to a queue starts when it first enters ``queued`` there. Its wait runs from
  that entry to the first of: answered (first ``assigned``), abandoned, timed out, cancelled, or
  moved to another queue. Put back in the same queue (offer rejected or lapsed, transfer, a
  callback not reached) it is neither offered again nor waiting again for ASA and service level.
  Across all queues a task has one visit; per queue, one per stay.
* Each event counts in the window where it happens: offered at entry; answered, abandoned,
  timed out, cancelled and transferred out where the wait ends; handle time where handling in
  the queue ends (completion, or a move to another queue after the answer).
* Every task whose figures fall in a window must come with its whole history (from creation),
  in any order; presence needs each agent's last change before the window.

The work is per task and then a sum, so a caller may keep finished tasks' visits to save work;
correctness comes first here and everything is recomputed from the records given.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from relais.routing.domain import WAITING_STATES

PRESENCES = frozenset({"available", "away", "offline"})
_WAIT_ENDS = frozenset({"abandoned", "cancelled", "timed_out"})


# --- the records ----------------------------------------------------------------------------------


def _check_aware(at: datetime) -> None:
    if at.utcoffset() is None:
        raise ValueError(f"{at!r} has no time zone")


@dataclass(frozen=True, slots=True)
class TaskTransition:
    """One row of ``task_events``: ``queue_id`` and ``agent_id`` as they were after it."""

    task_id: str
    queue_id: str
    channel: str
    agent_id: str | None
    command: str
    from_state: str | None  # None at creation
    to_state: str
    at: datetime

    def __post_init__(self) -> None:
        _check_aware(self.at)


@dataclass(frozen=True, slots=True)
class AgentStatusChange:
    """One row of ``agent_status_events``: the agent's presence from ``at`` on."""

    agent_id: str
    status: str  # available, away or offline
    at: datetime

    def __post_init__(self) -> None:
        _check_aware(self.at)
        if self.status not in PRESENCES:
            raise ValueError(f"unknown presence {self.status!r}")


@dataclass(frozen=True, slots=True)
class Window:
    """The instants ``start <= at < end``."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        _check_aware(self.start)
        _check_aware(self.end)
        if self.end <= self.start:
            raise ValueError("a window ends after it starts")

    def __contains__(self, at: object) -> bool:
        return isinstance(at, datetime) and self.start <= at < self.end


# --- the figures ----------------------------------------------------------------------------------


def ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


@dataclass(slots=True)
class _Tally:
    offered: int = 0
    answered: int = 0
    in_target: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    timed_out: int = 0
    cancelled: int = 0
    transferred_out: int = 0
    handled: int = 0
    answer_wait_s: float = 0.0
    abandon_wait_s: float = 0.0
    talk_s: float = 0.0
    wrap_up_s: float = 0.0

    @property
    def ended(self) -> int:
        return (
            self.answered + self.abandoned + self.timed_out + self.cancelled + self.transferred_out
        )


@dataclass(frozen=True, slots=True)
class QueueFigures:
    """One queue's figures (all queues when ``queue_id`` is None) over one window.

    Ratios are None when their denominator is 0. Service levels and rates compare contacts whose
    wait ended in the window, so each stays within [0, 1] in any window."""

    queue_id: str | None
    window: Window
    offered: int  # entered the queue in the window
    answered: int  # waits that ended in an answer in the window
    answered_in_target: int  # of those, waited at most the target
    abandoned: int  # the customer left while waiting, short abandons included
    short_abandoned: int  # abandoned after less than short_abandon_s
    timed_out: int  # the queue's last overflow step ended the wait
    cancelled: int  # withdrawn while waiting (by the customer or a supervisor)
    transferred_out: int  # moved to another queue before being answered (per queue only)
    handled: int  # handling in the queue ended in the window: counted by AHT
    service_level: float | None  # in target ÷ (answered + abandoned not short + timed out)
    service_level_of_answered: float | None  # in target ÷ answered
    service_level_of_offered: float | None  # in target ÷ every wait that ended
    asa_s: float | None  # mean wait of the answered
    average_abandon_wait_s: float | None  # mean wait of the abandoned, short ones included
    aht_s: float | None  # mean (talk + wrap-up) of the handled
    average_talk_s: float | None  # mean time assigned
    average_wrap_up_s: float | None  # mean time in wrap-up
    abandonment_rate: float | None  # abandoned ÷ every wait that ended
    abandonment_rate_excluding_short: float | None  # the same without the short abandons
    waiting_now: int  # queued or reserved at ``now``
    longest_wait_s: float | None  # the longest current wait at ``now``

    @property
    def waits_ended(self) -> int:
        return (
            self.answered + self.abandoned + self.timed_out + self.cancelled + self.transferred_out
        )


@dataclass(frozen=True, slots=True)
class IntervalFigures:
    """One interval of the day's chart."""

    start: datetime
    end: datetime
    offered: int
    answered: int
    answered_in_target: int
    abandoned: int
    short_abandoned: int
    service_level: float | None  # as QueueFigures.service_level
    asa_s: float | None


def _service_level(t: _Tally) -> float | None:
    return ratio(t.in_target, t.answered + t.abandoned - t.short_abandoned + t.timed_out)


# --- a task's visits to a queue -------------------------------------------------------------------


@dataclass(slots=True)
class _Visit:
    entered_at: datetime
    outcome: str | None = None  # answered, abandoned, timed_out, cancelled, transferred
    ended_at: datetime | None = None  # when the wait ended
    ended_in: str = ""  # the queue where it ended: its target judges the answer
    talk_s: float = 0.0
    wrap_up_s: float = 0.0
    handled_at: datetime | None = None

    def end(self, outcome: str, record: TaskTransition) -> None:
        if self.outcome is None:
            self.outcome, self.ended_at, self.ended_in = outcome, record.at, record.queue_id


def _in_order(records: list[TaskTransition]) -> list[TaskTransition]:
    """A task's records by time; records of the same instant (a supervisor's transfer straight
    to an agent writes three) chained by their states."""
    rest = sorted(records, key=lambda r: r.at)
    out: list[TaskTransition] = []
    state: str | None = None
    i = 0
    while i < len(rest):
        j = i
        while j < len(rest) and rest[j].at == rest[i].at:
            j += 1
        group = rest[i:j]
        while group:
            k = next((n for n, r in enumerate(group) if r.from_state == state), 0)
            out.append(group.pop(k))
            state = out[-1].to_state
        i = j
    return out


def _walk(
    records: list[TaskTransition], queue_id: str | None, now: datetime
) -> tuple[list[_Visit], datetime | None]:
    """The task's visits to ``queue_id`` (to any queue if None), and since when it has been
    waiting there at ``now`` (None if it is not waiting there then)."""
    visits: list[_Visit] = []
    visit: _Visit | None = None
    state: str | None = None
    previous_at: datetime | None = None
    spell_since: datetime | None = None  # the current wait, for the longest wait now
    waiting_since: datetime | None = None
    for r in records:
        if visit is not None and previous_at is not None:
            span = (r.at - previous_at).total_seconds()
            if state == "assigned":
                visit.talk_s += span
            elif state == "wrap_up":
                visit.wrap_up_s += span
        here = queue_id is None or r.queue_id == queue_id
        if visit is not None and not here:  # moved to another queue
            visit.end("transferred", r)
            if visit.outcome == "answered" and visit.handled_at is None:
                visit.handled_at = r.at
            visit = None
        if here and r.to_state == "queued":
            if visit is None:
                visit = _Visit(r.at)
                visits.append(visit)
                spell_since = r.at
            elif state not in WAITING_STATES:  # back in the queue after an answer
                spell_since = r.at
        elif visit is not None:
            if r.to_state == "assigned":
                visit.end("answered", r)
            elif r.to_state in _WAIT_ENDS:
                visit.end(r.to_state, r)
            elif r.to_state == "completed" and visit.outcome == "answered":
                visit.handled_at = visit.handled_at or r.at
        state, previous_at = r.to_state, r.at
        if r.at <= now:
            waiting = visit is not None and state in WAITING_STATES
            waiting_since = spell_since if waiting else None
    return visits, waiting_since


class Histories:
    """Records grouped by task and put in order once, for a caller that computes many figures
    from the same records (the wallboard: several windows, every queue). Every function that
    takes records takes this too."""

    __slots__ = ("_of_queue", "_walks", "tasks")

    def __init__(self, transitions: Iterable[TaskTransition]) -> None:
        grouped: dict[str, list[TaskTransition]] = defaultdict(list)
        for r in transitions:
            grouped[r.task_id].append(r)
        self.tasks = [_in_order(records) for records in grouped.values()]
        self._of_queue: dict[str, list[list[TaskTransition]]] = defaultdict(list)
        # Each task's visits, walked once per queue and instant however many windows count them.
        self._walks: dict[tuple[str | None, datetime], list[_Walked]] = {}
        for records in self.tasks:
            for queue_id in {r.queue_id for r in records}:
                self._of_queue[queue_id].append(records)

    def of_queue(self, queue_id: str | None) -> list[list[TaskTransition]]:
        """The tasks that were ever in ``queue_id`` (every task if None)."""
        return self.tasks if queue_id is None else self._of_queue.get(queue_id, [])

    @property
    def queue_ids(self) -> set[str]:
        return set(self._of_queue)

    def walked(self, queue_id: str | None, now: datetime) -> list[_Walked]:
        key = (queue_id, now)
        if key not in self._walks:
            self._walks[key] = [_walk(r, queue_id, now) for r in self.of_queue(queue_id)]
        return self._walks[key]


_Walked = tuple[list[_Visit], datetime | None]


Records = Iterable[TaskTransition] | Histories


def _histories(transitions: Records) -> Histories:
    return transitions if isinstance(transitions, Histories) else Histories(transitions)


def by_task(transitions: Records, queue_id: str | None = None) -> list[list[TaskTransition]]:
    return _histories(transitions).of_queue(queue_id)


def _target_of(target_s: float | Mapping[str, float]) -> Callable[[str], float]:
    if not isinstance(target_s, Mapping):
        return lambda _queue_id: target_s

    def target(queue_id: str) -> float:
        if queue_id not in target_s:
            raise ValueError(f"no service level target for queue {queue_id!r}")
        return target_s[queue_id]

    return target


def _count(
    visits: Iterable[_Visit],
    tally_at: Callable[[datetime], _Tally | None],
    target: Callable[[str], float],
    short_abandon_s: float,
) -> None:
    for v in visits:
        if (t := tally_at(v.entered_at)) is not None:
            t.offered += 1
        if v.ended_at is not None and (t := tally_at(v.ended_at)) is not None:
            wait = (v.ended_at - v.entered_at).total_seconds()
            if v.outcome == "answered":
                t.answered += 1
                t.in_target += wait <= target(v.ended_in)
                t.answer_wait_s += wait
            elif v.outcome == "abandoned":
                t.abandoned += 1
                t.short_abandoned += wait < short_abandon_s
                t.abandon_wait_s += wait
            elif v.outcome == "timed_out":
                t.timed_out += 1
            elif v.outcome == "cancelled":
                t.cancelled += 1
            else:
                t.transferred_out += 1
        if v.handled_at is not None and (t := tally_at(v.handled_at)) is not None:
            t.handled += 1
            t.talk_s += v.talk_s
            t.wrap_up_s += v.wrap_up_s


def _check(target_s: float | Mapping[str, float], short_abandon_s: float) -> None:
    targets = target_s.values() if isinstance(target_s, Mapping) else [target_s]
    if any(t < 0 for t in targets) or short_abandon_s < 0:
        raise ValueError("targets and thresholds cannot be negative")


# --- queues ---------------------------------------------------------------------------------------


def _figures(
    walked: list[_Walked],
    queue_id: str | None,
    window: Window,
    target: Callable[[str], float],
    now: datetime,
    short_abandon_s: float,
) -> QueueFigures:
    t = _Tally()
    waits: list[float] = []
    for visits, waiting_since in walked:
        _count(visits, lambda at: t if at in window else None, target, short_abandon_s)
        if waiting_since is not None:
            waits.append((now - waiting_since).total_seconds())
    return QueueFigures(
        queue_id=queue_id,
        window=window,
        offered=t.offered,
        answered=t.answered,
        answered_in_target=t.in_target,
        abandoned=t.abandoned,
        short_abandoned=t.short_abandoned,
        timed_out=t.timed_out,
        cancelled=t.cancelled,
        transferred_out=t.transferred_out,
        handled=t.handled,
        service_level=_service_level(t),
        service_level_of_answered=ratio(t.in_target, t.answered),
        service_level_of_offered=ratio(t.in_target, t.ended),
        asa_s=ratio(t.answer_wait_s, t.answered),
        average_abandon_wait_s=ratio(t.abandon_wait_s, t.abandoned),
        aht_s=ratio(t.talk_s + t.wrap_up_s, t.handled),
        average_talk_s=ratio(t.talk_s, t.handled),
        average_wrap_up_s=ratio(t.wrap_up_s, t.handled),
        abandonment_rate=ratio(t.abandoned, t.ended),
        abandonment_rate_excluding_short=ratio(
            t.abandoned - t.short_abandoned, t.ended - t.short_abandoned
        ),
        waiting_now=len(waits),
        longest_wait_s=max(waits, default=None),
    )


def queue_figures(
    transitions: Records,
    *,
    window: Window,
    target_s: float | Mapping[str, float],
    now: datetime,
    short_abandon_s: float = 5.0,
    queue_id: str | None = None,
) -> QueueFigures:
    """The figures of ``queue_id`` (of all queues if None) over ``window``, and its waiting
    tasks at ``now``. ``target_s`` is the service level target, or one per queue id (across
    queues, an answer is judged by the target of the queue that answered it)."""
    _check(target_s, short_abandon_s)
    return _figures(
        _histories(transitions).walked(queue_id, now),
        queue_id,
        window,
        _target_of(target_s),
        now,
        short_abandon_s,
    )


def figures_by_queue(
    transitions: Records,
    *,
    window: Window,
    target_s: float | Mapping[str, float],
    now: datetime,
    short_abandon_s: float = 5.0,
) -> dict[str, QueueFigures]:
    """``queue_figures`` of every queue in the records (and in ``target_s`` if a mapping)."""
    _check(target_s, short_abandon_s)
    target = _target_of(target_s)
    histories = _histories(transitions)
    queues = histories.queue_ids | (set(target_s) if isinstance(target_s, Mapping) else set())
    return {
        q: _figures(histories.walked(q, now), q, window, target, now, short_abandon_s)
        for q in sorted(queues)
    }


def by_interval(
    transitions: Records,
    start: datetime,
    end: datetime,
    interval: timedelta = timedelta(minutes=15),
    *,
    target_s: float | Mapping[str, float],
    short_abandon_s: float = 5.0,
    queue_id: str | None = None,
) -> list[IntervalFigures]:
    """The chart of ``[start, end)`` cut every ``interval`` from ``start`` (the last interval
    stops at ``end``), each counted as ``queue_figures`` counts a window."""
    whole = Window(start, end)
    if interval <= timedelta(0):
        raise ValueError("the interval must be positive")
    _check(target_s, short_abandon_s)
    tallies: list[_Tally] = []
    while start + interval * len(tallies) < end:
        tallies.append(_Tally())

    def tally_at(at: datetime) -> _Tally | None:
        return tallies[(at - start) // interval] if at in whole else None

    target = _target_of(target_s)
    for visits, _ in _histories(transitions).walked(queue_id, end):
        _count(visits, tally_at, target, short_abandon_s)
    return [
        IntervalFigures(
            start=start + interval * n,
            end=min(end, start + interval * (n + 1)),
            offered=t.offered,
            answered=t.answered,
            answered_in_target=t.in_target,
            abandoned=t.abandoned,
            short_abandoned=t.short_abandoned,
            service_level=_service_level(t),
            asa_s=ratio(t.answer_wait_s, t.answered),
        )
        for n, t in enumerate(tallies)
    ]
