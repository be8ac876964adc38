"""Agents' figures from the recorded presence changes and task transitions. Pure.

Occupancy (busy over busy plus idle, with two chats busy once) and agents by presence, as
docs/metrics.md defines them; the queues' figures are in routing.statistics.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from relais.routing.domain import HOLDING_STATES
from relais.routing.statistics import (
    AgentStatusChange,
    Records,
    Window,
    by_task,
    ratio,
)

# --- agents ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AgentOccupancy:
    agent_id: str
    busy_s: float  # logged in and holding at least one task (reserved, assigned, wrap-up)
    idle_s: float  # available and holding nothing

    @property
    def occupancy(self) -> float | None:
        return ratio(self.busy_s, self.busy_s + self.idle_s)


@dataclass(frozen=True, slots=True)
class Occupancy:
    """Per agent, and overall: all agents' busy time ÷ all their busy and idle time."""

    agents: Mapping[str, AgentOccupancy]
    busy_s: float
    idle_s: float

    @property
    def occupancy(self) -> float | None:
        return ratio(self.busy_s, self.busy_s + self.idle_s)


@dataclass(frozen=True, slots=True)
class AgentsNow:
    """Every agent known from the records at one instant, in exactly one of these."""

    available: int  # available and holding nothing
    busy: int  # logged in (available or away) and holding at least one task
    away: int  # away and holding nothing
    offline: int  # offline, or never seen logged in


# An agent's timeline: (at, presence or None, task id, holds): a presence change, or a task
# taken (holds=True) or let go.
_Event = tuple[datetime, str | None, str, bool]


def _timelines(
    status_changes: Iterable[AgentStatusChange],
    transitions: Records,
    agent_ids: Collection[str] | None = None,
) -> dict[str, list[_Event]]:
    """Each agent's timeline; only ``agent_ids`` (each of them, seen or not) when given."""
    out: dict[str, list[_Event]] = defaultdict(list)
    for s in status_changes:
        out[s.agent_id].append((s.at, s.status, "", False))
    for records in by_task(transitions):
        holder: str | None = None
        for r in records:
            now_held_by = r.agent_id if r.to_state in HOLDING_STATES else None
            if now_held_by != holder:
                if holder is not None:
                    out[holder].append((r.at, None, r.task_id, False))
                if now_held_by is not None:
                    out[now_held_by].append((r.at, None, r.task_id, True))
                holder = now_held_by
    if agent_ids is not None:
        out = defaultdict(list, {a: out.get(a, []) for a in agent_ids})
    for events in out.values():
        events.sort(key=lambda e: e[0])
    return out


def _apply(event: _Event, presence: str, held: set[str]) -> str:
    _, status, task_id, holds = event
    if status is not None:
        return status
    if holds:
        held.add(task_id)
    else:
        held.discard(task_id)
    return presence


def agent_occupancy(
    status_changes: Iterable[AgentStatusChange],
    transitions: Records,
    window: Window,
    *,
    agent_ids: Collection[str] | None = None,
) -> Occupancy:
    """Each agent's busy and idle time within ``window``. Holding two chats at once is busy
    once; time away or offline holding nothing counts on neither side. Give each agent's last
    presence change before the window (an agent is offline until one is seen). With
    ``agent_ids``, those agents only (a queue's)."""
    agents: dict[str, AgentOccupancy] = {}
    for agent_id, events in _timelines(status_changes, transitions, agent_ids).items():
        presence, held = "offline", set[str]()
        busy = idle = 0.0
        last = window.start
        for event in [*events, (window.end, None, "", False)]:
            at = min(max(event[0], window.start), window.end)
            span = (at - last).total_seconds()
            if held and presence != "offline":
                busy += span
            elif not held and presence == "available":
                idle += span
            last = at
            presence = _apply(event, presence, held)
        agents[agent_id] = AgentOccupancy(agent_id, busy, idle)
    return Occupancy(
        agents=agents,
        busy_s=sum(a.busy_s for a in agents.values()),
        idle_s=sum(a.idle_s for a in agents.values()),
    )


def agent_states(
    status_changes: Iterable[AgentStatusChange],
    transitions: Records,
    now: datetime,
    *,
    agent_ids: Collection[str] | None = None,
) -> dict[str, str]:
    """Each agent's state at ``now``: available, busy, away or offline (as ``AgentsNow``)."""
    out: dict[str, str] = {}
    for agent_id, events in _timelines(status_changes, transitions, agent_ids).items():
        presence, held = "offline", set[str]()
        for event in events:
            if event[0] > now:
                break
            presence = _apply(event, presence, held)
        out[agent_id] = "busy" if held and presence != "offline" else presence
    return out


def count_states(states: Iterable[str]) -> AgentsNow:
    counts = dict.fromkeys(("available", "busy", "away", "offline"), 0)
    for state in states:
        counts[state] += 1
    return AgentsNow(**counts)


def agents_now(
    status_changes: Iterable[AgentStatusChange],
    transitions: Records,
    now: datetime,
    *,
    agent_ids: Collection[str] | None = None,
) -> AgentsNow:
    """How many agents are available, busy, away and offline at ``now``: every agent known from
    the records, or exactly ``agent_ids`` (one never seen is offline)."""
    states = agent_states(status_changes, transitions, now, agent_ids=agent_ids)
    return count_states(states.values())
