"""The wallboard's data: per queue, what waits now and how the day went; per agent, presence,
load and occupancy. Supervisors' pages fetch it again whenever a task or presence frame
arrives on their WebSocket (at most once a second)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import func, select

from relais.deps import CurrentAgent, RuntimeDep
from relais.identity.models import Agent, AgentStatusEvent, AgentTeam
from relais.routing.endpoints import check_supervisor
from relais.routing.erlang import agents_for_service_level
from relais.routing.models import Queue, Task, TaskEvent
from relais.supervision.figures import (
    History,
    QueueFigures,
    StatusChange,
    Transition,
    by_interval,
    histories,
    occupancy,
    queue_figures,
)

router = APIRouter(tags=["supervision"])

INTERVAL_S = 15 * 60
HOLDING = ("reserved", "assigned", "wrap_up")


class Interval(BaseModel):
    start: datetime
    offered: int
    answered: int
    abandoned: int
    service_level: float | None
    asa_s: float | None


class Staffing(BaseModel):
    calls_per_hour: float
    aht_s: float | None
    agents_needed: int | None
    agents_available: int


class QueueBoard(BaseModel):
    id: str
    name: str
    channels: list[str]
    waiting: int
    longest_wait_s: float | None
    offered: int
    answered: int
    abandoned: int
    abandonment_rate: float | None
    service_level_15m: float | None
    service_level_today: float | None
    sl_target_s: int
    sl_goal: float
    asa_s: float | None
    aht_s: float | None
    agents: dict[str, int]
    occupancy: float | None
    intervals: list[Interval]
    staffing: Staffing


class AgentBoard(BaseModel):
    id: str
    name: str
    presence: str
    reason: str | None
    tasks: int
    occupancy: float | None


class Wallboard(BaseModel):
    generated_at: datetime
    queues: list[QueueBoard]
    agents: list[AgentBoard]


def _midnight(now: datetime, hours: dict[str, Any] | None) -> datetime:
    """Today's start in the queue's time zone (UTC when it has none)."""
    try:
        zone = ZoneInfo(str((hours or {}).get("timezone", "UTC")))
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = now.astimezone(zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


@router.get("/wallboard")
async def wallboard(agent: CurrentAgent, runtime: RuntimeDep) -> Wallboard:
    check_supervisor(agent)
    now = datetime.now(UTC)
    async with runtime.db.transaction(write=False) as uow:
        session = uow.session
        queues = (await session.scalars(select(Queue).order_by(Queue.name))).all()
        since = min([_midnight(now, q.hours) for q in queues], default=now) - timedelta(hours=1)
        rows = await session.execute(
            select(
                TaskEvent.task_id,
                TaskEvent.queue_id,
                TaskEvent.agent_id,
                TaskEvent.command,
                TaskEvent.to_state,
                TaskEvent.at,
            ).where(TaskEvent.at >= since)
        )
        transitions = [
            Transition(r.task_id, r.queue_id, r.agent_id, r.command, r.to_state, r.at.timestamp())
            for r in rows
        ]
        # Today's first-ever queue entries of tasks created earlier are in the window too.
        tasks_by_queue: dict[str, list[History]] = {}
        for h in histories(transitions).values():
            tasks_by_queue.setdefault(h.queue_id, []).append(h)
        live = await session.execute(
            select(Task.queue_id, Task.state, Task.queued_at, Task.agent_id).where(
                Task.state.in_(("queued", "reserved", *HOLDING))
            )
        )
        waiting: dict[str, list[float]] = {}
        load: dict[str, int] = {}
        for queue_id, state, queued_at, agent_id in live:
            if state in ("queued", "reserved") and queued_at is not None:
                waiting.setdefault(queue_id, []).append((now - queued_at).total_seconds())
            if state in HOLDING and agent_id is not None:
                load[agent_id] = load.get(agent_id, 0) + 1
        agents = (
            await session.scalars(select(Agent).where(Agent.active).order_by(Agent.name))
        ).all()
        statuses = await _statuses(session, since)
        teams = await session.execute(select(AgentTeam.agent_id, AgentTeam.team_id))
        team_of: dict[str, set[str]] = {}
        for agent_id, team_id in teams:
            team_of.setdefault(agent_id, set()).add(team_id)
    occupancy_today = occupancy(statuses, transitions, since.timestamp(), now.timestamp())
    boards = [
        _queue_board(q, now, tasks_by_queue.get(q.id, []), waiting.get(q.id, []), agents, load,
                     team_of, occupancy_today)
        for q in queues
    ]  # fmt: skip
    return Wallboard(
        generated_at=now,
        queues=boards,
        agents=[
            AgentBoard(
                id=a.id,
                name=a.name,
                presence=a.presence,
                reason=a.presence_reason,
                tasks=load.get(a.id, 0),
                occupancy=occupancy_today.get(a.id),
            )
            for a in agents
        ],
    )


async def _statuses(session: Any, since: datetime) -> list[StatusChange]:
    """Status changes since ``since``, plus each agent's status as it stood then."""
    rows = await session.execute(
        select(AgentStatusEvent.agent_id, AgentStatusEvent.status, AgentStatusEvent.at).where(
            AgentStatusEvent.at >= since
        )
    )
    out = [StatusChange(a, s, at.timestamp()) for a, s, at in rows]
    last = (
        select(AgentStatusEvent.agent_id, func.max(AgentStatusEvent.id).label("id"))
        .where(AgentStatusEvent.at < since)
        .group_by(AgentStatusEvent.agent_id)
        .subquery()
    )
    before = await session.execute(
        select(AgentStatusEvent.agent_id, AgentStatusEvent.status).join(
            last, last.c.id == AgentStatusEvent.id
        )
    )
    out += [StatusChange(a, s, since.timestamp()) for a, s in before]
    return out


def _queue_board(
    queue: Queue,
    now: datetime,
    tasks: list[History],
    waits: list[float],
    agents: Any,
    load: dict[str, int],
    team_of: dict[str, set[str]],
    occupancy_today: dict[str, float | None],
) -> QueueBoard:
    day = _midnight(now, queue.hours).timestamp()
    t = now.timestamp()
    target = queue.sl_target_s
    today = queue_figures(tasks, day, t, target_s=target)
    recent = queue_figures(tasks, t - 15 * 60, t, target_s=target)
    last_hour = queue_figures(tasks, t - 3600, t, target_s=target)
    serving = [a for a in agents if team_of.get(a.id, set()) & set(queue.team_ids)]
    counts = {"available": 0, "busy": 0, "away": 0, "offline": 0}
    for a in serving:
        if load.get(a.id):
            counts["busy"] += 1
        else:
            counts[a.presence if a.presence in counts else "offline"] += 1
    shares = [o for a in serving if (o := occupancy_today.get(a.id)) is not None]
    aht = today.aht_s
    calls_per_hour = float(last_hour.offered)
    needed = None
    if aht is not None and calls_per_hour > 0:
        traffic = calls_per_hour * aht / 3600
        needed = agents_for_service_level(traffic, aht, target, queue.sl_goal)
    return QueueBoard(
        id=queue.id,
        name=queue.name,
        channels=list(queue.channels),
        waiting=len(waits),
        longest_wait_s=max(waits) if waits else None,
        offered=today.offered,
        answered=today.answered,
        abandoned=today.abandoned,
        abandonment_rate=today.abandonment_rate,
        service_level_15m=recent.service_level,
        service_level_today=today.service_level,
        sl_target_s=target,
        sl_goal=queue.sl_goal,
        asa_s=today.asa_s,
        aht_s=aht,
        agents=counts,
        occupancy=sum(shares) / len(shares) if shares else None,
        intervals=[
            _interval(at, f) for at, f in by_interval(tasks, day, t, INTERVAL_S, target_s=target)
        ],
        staffing=Staffing(
            calls_per_hour=calls_per_hour,
            aht_s=aht,
            agents_needed=needed,
            agents_available=counts["available"] + counts["busy"],
        ),
    )


def _interval(at: float, f: QueueFigures) -> Interval:
    return Interval(
        start=datetime.fromtimestamp(at, UTC),
        offered=f.offered,
        answered=f.answered,
        abandoned=f.abandoned,
        service_level=f.service_level,
        asa_s=f.asa_s,
    )
