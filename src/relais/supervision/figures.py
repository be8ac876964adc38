"""The wallboard's figures, from the recorded task transitions and agent status changes. Pure.

Definitions (docs/metrics.md): a task is *offered* when it first enters a queue; it is
*answered* when an agent first accepts it, and *abandoned* when the customer leaves while it
waits. Its wait runs from the first entry in the queue to the answer or the abandonment (a
callback's time before its slot opens is not waiting). Each figure is counted in the interval
where its event happens: offered at entry, answered and abandoned when the wait ends.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Transition:
    task_id: str
    queue_id: str
    agent_id: str | None
    command: str
    to_state: str
    at: float


@dataclass(frozen=True, slots=True)
class StatusChange:
    agent_id: str
    status: str
    at: float


@dataclass(slots=True)
class History:
    queue_id: str
    queued_at: float | None = None
    answered_at: float | None = None
    abandoned_at: float | None = None
    completed_at: float | None = None

    @property
    def wait(self) -> float | None:
        end = self.answered_at if self.answered_at is not None else self.abandoned_at
        if end is None or self.queued_at is None:
            return None
        return end - self.queued_at


def histories(transitions: Iterable[Transition]) -> dict[str, History]:
    """Each task's first entry in the queue, first answer, abandonment and completion."""
    out: dict[str, History] = {}
    for t in sorted(transitions, key=lambda t: t.at):
        h = out.setdefault(t.task_id, History(t.queue_id))
        if t.to_state == "queued" and h.queued_at is None:
            h.queued_at = t.at
        elif t.to_state == "assigned" and h.answered_at is None:
            h.answered_at = t.at
        elif t.to_state == "abandoned":
            h.abandoned_at = t.at
        elif t.to_state == "completed":
            h.completed_at = t.at
    return out


@dataclass(frozen=True, slots=True)
class QueueFigures:
    offered: int
    answered: int
    answered_in_target: int
    abandoned: int
    short_abandoned: int
    service_level: float | None  # in target ÷ (answered + abandoned after the short threshold)
    asa_s: float | None
    aht_s: float | None
    abandonment_rate: float | None  # abandoned ÷ (answered + abandoned)


def queue_figures(
    tasks: Iterable[History],
    start: float,
    end: float,
    *,
    target_s: float,
    short_abandon_s: float = 5.0,
) -> QueueFigures:
    offered = answered = in_target = abandoned = short = 0
    waits: list[float] = []
    handled: list[float] = []

    def inside(at: float | None) -> bool:
        return at is not None and start <= at < end

    for h in tasks:
        wait = h.wait
        if inside(h.queued_at):
            offered += 1
        if inside(h.answered_at) and wait is not None:
            answered += 1
            in_target += wait <= target_s
            waits.append(wait)
        elif inside(h.abandoned_at) and h.answered_at is None:
            abandoned += 1
            short += wait is not None and wait < short_abandon_s
        if inside(h.completed_at) and h.answered_at is not None and h.completed_at is not None:
            handled.append(h.completed_at - h.answered_at)
    counted = answered + abandoned - short
    ended = answered + abandoned
    return QueueFigures(
        offered=offered,
        answered=answered,
        answered_in_target=in_target,
        abandoned=abandoned,
        short_abandoned=short,
        service_level=in_target / counted if counted else None,
        asa_s=sum(waits) / len(waits) if waits else None,
        aht_s=sum(handled) / len(handled) if handled else None,
        abandonment_rate=abandoned / ended if ended else None,
    )


def by_interval(
    tasks: list[History], start: float, end: float, step_s: float, *, target_s: float
) -> list[tuple[float, QueueFigures]]:
    out = []
    at = start
    while at < end:
        out.append((at, queue_figures(tasks, at, min(end, at + step_s), target_s=target_s)))
        at += step_s
    return out


def occupancy(
    statuses: Iterable[StatusChange], transitions: Iterable[Transition], start: float, end: float
) -> dict[str, float | None]:
    """Per agent: time handling ÷ (time handling + time available and idle), within the window.

    Handling is holding at least one task (reserved, assigned or in wrap-up): two chats at once
    count once. Time away or offline counts on neither side."""
    timeline: dict[str, list[tuple[float, str, object]]] = {}
    for s in statuses:
        timeline.setdefault(s.agent_id, []).append((s.at, "status", s.status))
    holding_states = {"reserved", "assigned", "wrap_up"}
    held_by: dict[str, str | None] = {}
    for t in sorted(transitions, key=lambda t: t.at):
        before = held_by.get(t.task_id)
        now_holder = t.agent_id if t.to_state in holding_states else None
        if before != now_holder:
            if before is not None:
                timeline.setdefault(before, []).append((t.at, "release", t.task_id))
            if now_holder is not None:
                timeline.setdefault(now_holder, []).append((t.at, "hold", t.task_id))
            held_by[t.task_id] = now_holder
    out: dict[str, float | None] = {}
    for agent_id, events in timeline.items():
        events.sort(key=lambda e: e[0])
        status, held = "offline", 0
        busy = idle = 0.0
        last = start
        for at, kind, value in [*events, (end, "end", None)]:
            span = max(0.0, min(at, end) - max(last, start))
            if held:
                busy += span
            elif status == "available":
                idle += span
            last = max(last, at)
            if kind == "status":
                status = str(value)
            elif kind == "hold":
                held += 1
            elif kind == "release":
                held = max(0, held - 1)
        out[agent_id] = busy / (busy + idle) if busy + idle > 0 else None
    return out
