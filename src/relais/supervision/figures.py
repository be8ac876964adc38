"""The wallboard's figures, assembled from ``relais.routing.statistics``. Pure: the records come
in (supervision/repository.py loads them), the board goes out.

Every figure follows docs/metrics.md: visits per queue and one visit across all queues, each
event counted in the window where it happens, today from midnight in the queue's time zone.
The records are grouped by task once (``Histories``) and shared by every window and queue.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from relais.routing.agent_statistics import Occupancy, agent_occupancy, agent_states, count_states
from relais.routing.domain import HOLDING_STATES
from relais.routing.erlang import agents_for_service_level
from relais.routing.statistics import (
    AgentStatusChange,
    Histories,
    IntervalFigures,
    QueueFigures,
    TaskTransition,
    Window,
    by_interval,
    queue_figures,
)
from relais.supervision.schemas import (
    AgentBoard,
    AgentCounts,
    Interval,
    QueueBoard,
    Staffing,
    Wallboard,
)

INTERVAL = timedelta(minutes=15)
RECENT = timedelta(minutes=15)
HOUR = timedelta(hours=1)
DEFAULT_TARGET_S = 20


@dataclass(frozen=True, slots=True)
class QueueInfo:
    id: str
    name: str
    channels: Sequence[str]
    team_ids: frozenset[str]
    sl_target_s: int
    sl_goal: float
    timezone: str = "UTC"


@dataclass(frozen=True, slots=True)
class AgentInfo:
    id: str
    name: str
    presence: str  # as the agent's row says now
    reason: str | None
    team_ids: frozenset[str] = field(default_factory=frozenset)


def midnight(now: datetime, timezone: str) -> datetime:
    """Today's start in ``timezone`` (UTC when it is unknown)."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = now.astimezone(zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def timezone_of(hours: Mapping[str, Any] | None) -> str:
    return str((hours or {}).get("timezone", "UTC"))


def earliest_start(queues: Sequence[QueueInfo], now: datetime) -> datetime:
    """From when records are needed: the earliest midnight, or the last hour if earlier."""
    starts = [midnight(now, q.timezone) for q in queues] or [now]
    return min([*starts, now - HOUR])


def _window(start: datetime, end: datetime) -> Window:
    # At midnight exactly the day is empty; a window must still end after it starts.
    return Window(start, max(end, start + timedelta(microseconds=1)))


def _interval(f: IntervalFigures) -> Interval:
    return Interval(
        start=f.start,
        offered=f.offered,
        answered=f.answered,
        abandoned=f.abandoned,
        service_level=f.service_level,
        asa_s=f.asa_s,
    )


def _occupancy(occupancy: Occupancy, agent_ids: Sequence[str]) -> float | None:
    """Busy ÷ (busy + idle) of these agents together, weighed by time."""
    busy = sum(occupancy.agents[a].busy_s for a in agent_ids if a in occupancy.agents)
    idle = sum(occupancy.agents[a].idle_s for a in agent_ids if a in occupancy.agents)
    return busy / (busy + idle) if busy + idle else None


def _board(
    *,
    queue_id: str | None,
    name: str,
    channels: Sequence[str],
    histories: Histories,
    day: datetime,
    now: datetime,
    target: int | Mapping[str, float],
    states: Mapping[str, str],
    occupancy: Occupancy,
    agent_ids: Sequence[str],
) -> tuple[QueueBoard, QueueFigures]:
    today = queue_figures(
        histories, window=_window(day, now), target_s=target, now=now, queue_id=queue_id
    )
    recent = queue_figures(
        histories, window=_window(now - RECENT, now), target_s=target, now=now, queue_id=queue_id
    )
    chart = by_interval(
        histories, day, max(now, day + timedelta(microseconds=1)), INTERVAL,
        target_s=target, queue_id=queue_id,
    )  # fmt: skip
    counts = count_states(states.get(a, "offline") for a in agent_ids)
    board = QueueBoard(
        id=queue_id,
        name=name,
        channels=list(channels),
        waiting=today.waiting_now,
        longest_wait_s=today.longest_wait_s,
        offered=today.offered,
        answered=today.answered,
        abandoned=today.abandoned,
        short_abandoned=today.short_abandoned,
        timed_out=today.timed_out,
        transferred_out=today.transferred_out,
        abandonment_rate=today.abandonment_rate,
        service_level_15m=recent.service_level,
        service_level_today=today.service_level,
        sl_target_s=None,
        sl_goal=None,
        asa_s=today.asa_s,
        aht_s=today.aht_s,
        agents=AgentCounts(
            available=counts.available, busy=counts.busy, away=counts.away, offline=counts.offline
        ),
        occupancy=_occupancy(occupancy, agent_ids),
        intervals=[_interval(f) for f in chart],
        staffing=None,
    )
    return board, today


def wallboard(
    queues: Sequence[QueueInfo],
    agents: Sequence[AgentInfo],
    transitions: Sequence[TaskTransition] | Histories,
    statuses: Sequence[AgentStatusChange],
    now: datetime,
    sla: Mapping[str, tuple[int, int]] | None = None,
) -> Wallboard:
    """The board at ``now``. ``transitions``: the whole history of every task with an event
    since ``earliest_start`` or still open; ``statuses``: presence changes since then, with
    each agent's last one before; ``sla``: per queue, e-mail tasks at risk and breached."""
    sla = sla or {}
    histories = transitions if isinstance(transitions, Histories) else Histories(transitions)
    day_start = min([midnight(now, q.timezone) for q in queues], default=midnight(now, "UTC"))
    states = agent_states(statuses, histories, now, agent_ids=[a.id for a in agents])
    occupancy = agent_occupancy(statuses, histories, _window(day_start, now))
    load: dict[str, int] = {}
    for records in histories.tasks:
        last = records[-1]
        if last.to_state in HOLDING_STATES and last.agent_id is not None:
            load[last.agent_id] = load.get(last.agent_id, 0) + 1

    boards = []
    for q in queues:
        serving = [a.id for a in agents if a.team_ids & q.team_ids]
        board, today = _board(
            queue_id=q.id, name=q.name, channels=q.channels, histories=histories,
            day=midnight(now, q.timezone), now=now, target=q.sl_target_s, states=states,
            occupancy=occupancy, agent_ids=serving,
        )  # fmt: skip
        last_hour = queue_figures(
            histories, window=_window(now - HOUR, now), target_s=q.sl_target_s, now=now,
            queue_id=q.id,
        )  # fmt: skip
        board.sl_target_s, board.sl_goal = q.sl_target_s, q.sl_goal
        board.staffing = _staffing(q, float(last_hour.offered), today.aht_s, board.agents)
        board.sla_at_risk, board.sla_breached = sla.get(q.id, (0, 0))
        boards.append(board)

    # Across queues each answer is judged by its own queue's target.
    targets: dict[str, float] = dict.fromkeys(histories.queue_ids, DEFAULT_TARGET_S)
    targets.update({q.id: q.sl_target_s for q in queues})
    everyone, _ = _board(
        queue_id=None, name="", channels=sorted({c for q in queues for c in q.channels}),
        histories=histories, day=day_start, now=now, target=targets, states=states,
        occupancy=occupancy, agent_ids=[a.id for a in agents],
    )  # fmt: skip
    everyone.sla_at_risk = sum(at_risk for at_risk, _ in sla.values())
    everyone.sla_breached = sum(breached for _, breached in sla.values())
    if len({(q.sl_target_s, q.sl_goal) for q in queues}) == 1:
        everyone.sl_target_s, everyone.sl_goal = queues[0].sl_target_s, queues[0].sl_goal
    return Wallboard(
        generated_at=now,
        day_start=day_start,
        queues=boards,
        all_queues=everyone,
        agents=[
            AgentBoard(
                id=a.id,
                name=a.name,
                presence=a.presence,
                reason=a.reason,
                tasks=load.get(a.id, 0),
                occupancy=occupancy.agents[a.id].occupancy if a.id in occupancy.agents else None,
            )
            for a in agents
        ],
    )


def _staffing(q: QueueInfo, calls_per_hour: float, aht: float | None, a: AgentCounts) -> Staffing:
    """Erlang C at the last hour's arrivals and today's handle time (docs/metrics.md)."""
    needed = None
    if aht is not None and calls_per_hour > 0:
        traffic = calls_per_hour * aht / 3600
        needed = agents_for_service_level(traffic, aht, q.sl_target_s, q.sl_goal)
    return Staffing(
        calls_per_hour=calls_per_hour,
        aht_s=aht,
        agents_needed=needed,
        agents_available=a.available + a.busy,
    )
