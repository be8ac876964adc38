"""What the wallboard reads: queues, agents, and the records its figures are computed from.

A task's figures depend on its whole history: one queued yesterday evening and answered this
morning is answered today with a wait from yesterday. So the records are every event of every
task that has an event since ``since`` or is still open (one query, on the two indexes of
``task_events``), not only the events since ``since``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from relais.channels.email.models import MailSla
from relais.identity.models import Agent, AgentStatusEvent, AgentTeam
from relais.routing.models import Queue, Task, TaskEvent
from relais.routing.statistics import PRESENCES, AgentStatusChange, TaskTransition
from relais.supervision.figures import AgentInfo, QueueInfo, timezone_of

OPEN = ("scheduled", "queued", "reserved", "assigned", "wrap_up")


async def load_queues(session: AsyncSession) -> list[QueueInfo]:
    rows = (await session.scalars(select(Queue).order_by(Queue.name))).all()
    return [
        QueueInfo(
            id=q.id,
            name=q.name,
            channels=list(q.channels or []),
            team_ids=frozenset(q.team_ids or []),
            sl_target_s=q.sl_target_s,
            sl_goal=q.sl_goal,
            timezone=timezone_of(q.hours),
        )
        for q in rows
    ]


async def load_agents(session: AsyncSession) -> list[AgentInfo]:
    teams: dict[str, set[str]] = {}
    for agent_id, team_id in await session.execute(select(AgentTeam.agent_id, AgentTeam.team_id)):
        teams.setdefault(agent_id, set()).add(team_id)
    rows = (await session.scalars(select(Agent).where(Agent.active).order_by(Agent.name))).all()
    return [
        AgentInfo(a.id, a.name, a.presence, a.presence_reason, frozenset(teams.get(a.id, ())))
        for a in rows
    ]


async def load_transitions(session: AsyncSession, since: datetime) -> list[TaskTransition]:
    """The whole history of every task with an event since ``since`` or still open."""
    touched = union(
        select(TaskEvent.task_id).where(TaskEvent.at >= since),
        select(Task.id).where(Task.state.in_(OPEN)),
    ).subquery()
    rows = await session.execute(
        select(
            TaskEvent.task_id,
            TaskEvent.queue_id,
            TaskEvent.channel,
            TaskEvent.agent_id,
            TaskEvent.command,
            TaskEvent.from_state,
            TaskEvent.to_state,
            TaskEvent.at,
        ).where(TaskEvent.task_id.in_(select(touched.c[0])))
    )
    return [TaskTransition(*row) for row in rows]


async def load_sla(session: AsyncSession) -> dict[str, tuple[int, int]]:
    """Per queue, the open e-mail tasks whose SLA clock is at risk and breached, as the last
    check found them (channels/email/sla_watch.py)."""
    rows = await session.execute(
        select(Task.queue_id, MailSla.level, func.count())
        .join(Task, Task.id == MailSla.task_id)
        .where(MailSla.open, MailSla.level.in_(("at_risk", "breached")))
        .group_by(Task.queue_id, MailSla.level)
    )
    out: dict[str, tuple[int, int]] = {}
    for queue_id, level, count in rows:
        at_risk, breached = out.get(queue_id, (0, 0))
        out[queue_id] = (at_risk + count, breached) if level == "at_risk" else (at_risk, count)
    return out


async def load_statuses(session: AsyncSession, since: datetime) -> list[AgentStatusChange]:
    """Presence changes since ``since``, and each agent's presence as it stood then."""
    rows = await session.execute(
        select(AgentStatusEvent.agent_id, AgentStatusEvent.status, AgentStatusEvent.at).where(
            AgentStatusEvent.at >= since
        )
    )
    out = [AgentStatusChange(a, s, at) for a, s, at in rows if s in PRESENCES]
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
    out += [AgentStatusChange(a, s, since) for a, s in before if s in PRESENCES]
    return out
