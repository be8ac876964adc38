"""Runs the ACD engine in the one process that holds the routing lease.

Every process runs a ``RoutingLeader``; one takes the lease, rebuilds the engine from the store,
and from then on feeds it the task and presence events of the bus, fires its timers and writes
its decisions, fenced by the lease. When it dies, another process takes the lease within its
time to live and rebuilds the same state from the same store.

Events that arrive while a batch of decisions is being written wait in ``_pending`` and are fed
to the engine before its next step, so the engine sees every change in order, once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from relais.core.bus import Event
from relais.core.db import Database, UnitOfWork
from relais.identity.events import AgentPresenceChanged
from relais.identity.models import Agent, AgentSkill, AgentTeam, Skill
from relais.identity.service import do_change_presence
from relais.routing.domain import TaskCommand
from relais.routing.engine import (
    AgentAway,
    AgentSnapshot,
    Effect,
    EndWrapUp,
    Engine,
    Enqueue,
    Expire,
    OfferCallback,
    Reserve,
    TaskSnapshot,
    TimeOut,
)
from relais.routing.events import CallbackOffered, QueueChanged, QueuePosition, TaskChanged
from relais.routing.lease import LeaseLost, StoreLease
from relais.routing.models import Queue, Task
from relais.routing.queues import OVERFLOW_TIER, PRIMARY_TIER, QueueConfig, queue_skill
from relais.routing.schemas import TaskOut
from relais.routing.service import Move, capacity_of, do_moves, on_assigned, rules_of

log = logging.getLogger(__name__)

LIVE = ("scheduled", "queued", "reserved", "assigned", "wrap_up")
POSITIONS_EVERY_S = 2.0
# How often the leader looks in the store for waiting tasks it never heard of (sweep()).
SWEEP_EVERY_S = 2.0


def task_snapshot(task: Task | TaskOut) -> TaskSnapshot:
    def ts(value: object) -> float | None:
        return value.timestamp() if value is not None else None  # type: ignore[attr-defined]  # datetime

    return TaskSnapshot(
        id=task.id,
        queue_id=task.queue_id,
        channel=task.channel,
        state=task.state,  # type: ignore[arg-type]  # written by routing.service only
        version=task.version,
        queued_at=ts(task.queued_at) or ts(task.not_before) or task.created_at.timestamp(),
        priority=task.priority,
        requirements=dict(task.requirements or {}),
        agent_id=task.agent_id,
        not_before=ts(task.not_before),
        deadline=ts(task.deadline),
        wrap_up_until=ts(task.wrap_up_until),
    )


class RoutingLeader:
    def __init__(
        self,
        db: Database,
        *,
        holder: str,
        ttl_s: float = 5.0,
        renew_s: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.lease = StoreLease(db, "acd", holder, ttl_s=ttl_s)
        self.renew_s = renew_s
        self.clock = clock
        self.engine: Engine | None = None
        self._pending_tasks: dict[str, TaskOut] = {}
        self._misses: list[tuple[str, str]] = []
        self._pending_agents: set[str] = set()
        self._queues_changed = False
        self._visitors: dict[str, tuple[str, str | None]] = {}  # waiting task -> its visitor
        self._handled: list[tuple[str, float]] = []
        self._told: dict[str, tuple[int, float | None]] = {}
        self._told_at = 0.0
        self._swept_at = 0.0
        self._queues: list[tuple[str, set[str], set[str]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._agent_version = 0
        self.decisions = 0

    # -- bus --------------------------------------------------------------------------------

    def on_event(self, event: Event) -> None:
        if not self.lease.held:
            return
        if isinstance(event, TaskChanged):
            known = self._pending_tasks.get(event.task.id)
            if known is None or known.version < event.task.version:
                self._pending_tasks[event.task.id] = event.task
            task = event.task
            if task.visitor_id and task.state in ("scheduled", "queued"):
                self._visitors[task.id] = (task.visitor_id, task.conversation_id)
            elif task.state not in ("scheduled", "queued"):
                self._visitors.pop(task.id, None)
            if task.state == "completed" and task.assigned_at and task.ended_at:
                handled = (task.ended_at - task.assigned_at).total_seconds()
                self._handled.append((task.queue_id, handled))
            if event.command == "reject" and event.previous_agent_id:
                self._misses.append((event.task.queue_id, event.previous_agent_id))
            self._wake.set()
        elif isinstance(event, AgentPresenceChanged):
            self._pending_agents.add(event.agent_id)
            self._wake.set()
        elif isinstance(event, QueueChanged):
            self._queues_changed = True
            self._wake.set()

    # -- life -------------------------------------------------------------------------------

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="acd-leader")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Exception):
            await self.lease.release()

    async def _run(self) -> None:
        while True:
            try:
                if await self.lease.acquire():
                    log.info("routing lease taken by %s", self.lease.holder)
                    await self._lead()
            except LeaseLost:
                log.warning("routing lease lost by %s", self.lease.holder)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("routing engine failed; rebuilding")
            self.engine = None
            await asyncio.sleep(self.renew_s)

    async def _lead(self) -> None:
        self._pending_tasks.clear()
        self._pending_agents.clear()
        engine = Engine()
        await self._rebuild(engine)
        self.engine = engine
        renewed = self.clock()
        while True:
            now = self.clock()
            if now - self._swept_at >= SWEEP_EVERY_S:
                self._swept_at = now
                await self._sweep(engine)
            await self._feed(engine, now)
            effects = engine.step(now)
            log.debug(
                "engine step: %d effects, %d tasks, %d agents",
                len(effects), len(engine.tasks), len(engine.agents),
            )  # fmt: skip
            if effects:
                await self._write(engine, effects, now)
                renewed = now
                continue
            if now - self._told_at >= POSITIONS_EVERY_S:
                self._told_at = now
                await self._tell_positions(engine)
            if now - renewed >= self.renew_s:
                if not await self.lease.acquire():
                    raise LeaseLost(self.lease.name)
                renewed = now
            due = engine.next_due()
            wait = self.renew_s if due is None else min(self.renew_s, max(0.0, due - now))
            self._wake.clear()
            if self._pending_tasks or self._pending_agents:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    async def _tell_positions(self, engine: Engine) -> None:
        """Waiting visitors hear their place and estimated wait when either changes."""
        events: list[Event] = []
        for task_id, (position, ewt) in engine.positions().items():
            who = self._visitors.get(task_id)
            rounded = (position, None if ewt is None else round(ewt / 15) * 15.0)
            if who is None or self._told.get(task_id) == rounded:
                continue
            self._told[task_id] = rounded
            events.append(
                QueuePosition(
                    task_id=task_id,
                    visitor_id=who[0],
                    conversation_id=who[1],
                    position=position,
                    estimated_wait_s=rounded[1],
                )
            )
        self._told = {k: v for k, v in self._told.items() if k in self._visitors}
        if events:
            await self.db.bus.publish_many(events)

    # -- reading the store ------------------------------------------------------------------

    async def _rebuild(self, engine: Engine) -> None:
        now = self.clock()
        async with self.db.transaction(write=False) as uow:
            queues = (await uow.session.scalars(select(Queue))).all()
            for queue in queues:
                engine.set_queue(QueueConfig(queue.id, rules_of(queue)))
            self._queues = [(q.id, set(q.team_ids), set(q.overflow_team_ids)) for q in queues]
            agents = (await uow.session.scalars(select(Agent).where(Agent.active))).all()
            for agent in agents:
                engine.set_agent(await self._agent_snapshot(uow.session, agent), now)
            tasks = await uow.session.scalars(select(Task).where(Task.state.in_(LIVE)))
            for task in tasks.all():
                engine.set_task(task_snapshot(task), now)
                if task.visitor_id and task.state in ("scheduled", "queued"):
                    self._visitors[task.id] = (task.visitor_id, task.conversation_id)
            recent = await uow.session.execute(
                select(Task.queue_id, Task.assigned_at, Task.ended_at)
                .where(Task.state == "completed", Task.assigned_at.is_not(None))
                .order_by(Task.ended_at.desc())
                .limit(200)
            )
            for queue_id, assigned_at, ended_at in reversed(recent.all()):
                if assigned_at is not None and ended_at is not None:
                    engine.note_handled(queue_id, (ended_at - assigned_at).total_seconds())
        log.info("routing engine rebuilt: %d agents, %d live tasks", len(agents), len(engine.tasks))

    async def _agent_snapshot(self, session: AsyncSession, agent: Agent) -> AgentSnapshot:
        rows = await session.execute(
            select(Skill.name, AgentSkill.level)
            .join(AgentSkill, AgentSkill.skill_id == Skill.id)
            .where(AgentSkill.agent_id == agent.id)
        )
        skills = {name: level for name, level in rows}
        team_ids = set(
            await session.scalars(select(AgentTeam.team_id).where(AgentTeam.agent_id == agent.id))
        )
        for queue_id, primary, overflow in self._queues:
            if team_ids & primary:
                skills[queue_skill(queue_id)] = PRIMARY_TIER
            elif team_ids & overflow:
                skills[queue_skill(queue_id)] = OVERFLOW_TIER
        self._agent_version += 1
        return AgentSnapshot(
            id=agent.id,
            version=self._agent_version,
            available=agent.presence == "available" and agent.active,
            skills=skills,
            capacity=capacity_of(agent),
        )

    async def _feed(self, engine: Engine, now: float) -> None:
        if self._queues_changed or self._pending_agents:
            # A queue's teams decide its agents' pseudo-skills: a queue change re-reads them all.
            everyone, self._queues_changed = self._queues_changed, False
            ids, self._pending_agents = self._pending_agents, set()
            async with self.db.transaction(write=False) as uow:
                queues = (await uow.session.scalars(select(Queue))).all()
                for queue in queues:
                    engine.set_queue(QueueConfig(queue.id, rules_of(queue)))
                self._queues = [(q.id, set(q.team_ids), set(q.overflow_team_ids)) for q in queues]
                query = select(Agent).where(Agent.active)
                if not everyone:
                    query = query.where(Agent.id.in_(ids))
                agents = await uow.session.scalars(query)
                for agent in agents.all():
                    snapshot = await self._agent_snapshot(uow.session, agent)
                    log.debug("agent %s: available=%s", agent.id, snapshot.available)
                    engine.set_agent(snapshot, now)
        if self._handled:
            handled, self._handled = self._handled, []
            for queue_id, seconds in handled:
                engine.note_handled(queue_id, seconds)
        if self._misses:
            misses, self._misses = self._misses, []
            for queue_id, agent_id in misses:
                engine.note_miss(agent_id, queue_id, now)
        if self._pending_tasks:
            tasks, self._pending_tasks = self._pending_tasks, {}
            for task in tasks.values():
                if task.queue_id not in engine.queues:
                    await self._load_queue(engine, task.queue_id)
                engine.set_task(task_snapshot(task), now)

    async def _sweep(self, engine: Engine) -> None:
        """Waiting tasks the engine never heard of, from the store: a process without the bus
        of this one (``relais mail import`` on SQLite, without Redis) or an event lost. One
        query on ``ix_tasks_state`` of ids and versions; only the unknown or newer are read,
        then fed like the bus's events (a new queue re-reads queues and agents' skills)."""
        async with self.db.transaction(write=False) as uow:
            rows = await uow.session.execute(
                select(Task.id, Task.version, Task.queue_id).where(
                    Task.state.in_(("scheduled", "queued"))
                )
            )
            stale = []
            for task_id, version, queue_id in rows:
                known = engine.tasks.get(task_id)
                pending = self._pending_tasks.get(task_id)
                if (known is None or known.version < version) and (
                    pending is None or pending.version < version
                ):
                    stale.append(task_id)
                    if queue_id not in engine.queues:
                        self._queues_changed = True
            if not stale:
                return
            tasks = await uow.session.scalars(select(Task).where(Task.id.in_(stale[:500])))
            for task in tasks.all():
                self._pending_tasks[task.id] = TaskOut.of(task)
                if task.visitor_id and task.state in ("scheduled", "queued"):
                    self._visitors[task.id] = (task.visitor_id, task.conversation_id)
        log.info("routing: %d waiting tasks found in the store, not heard of", len(stale))

    async def _load_queue(self, engine: Engine, queue_id: str) -> None:
        async with self.db.transaction(write=False) as uow:
            queue = await uow.session.get(Queue, queue_id)
            if queue is not None:
                engine.set_queue(QueueConfig(queue.id, rules_of(queue)))

    # -- writing decisions ------------------------------------------------------------------

    async def _write(self, engine: Engine, effects: list[Effect], now: float) -> None:
        """All the effects of one step in one transaction, fenced by the lease, the task moves
        batched (routing.service.do_moves). A move the store refuses (the task moved
        meanwhile) is skipped and the task re-read."""
        at = datetime.fromtimestamp(now, UTC)
        moves: list[Move] = []
        by_task: dict[str, Move] = {}
        accepted: list[Move] = []
        async with self.db.transaction() as uow:
            await self.lease.fence(uow.session)
            # One read for the whole batch: each move then finds its task in the session.
            ids = [e.task_id for e in effects if not isinstance(e, AgentAway | OfferCallback)]
            tasks: dict[str, Task] = {}
            for i in range(0, len(ids), 500):
                rows = await uow.session.scalars(
                    select(Task)
                    .where(Task.id.in_(ids[i : i + 500]))
                    .execution_options(populate_existing=True)
                )
                tasks.update((t.id, t) for t in rows)
            # The recorded transitions pile up in the session and go in one INSERT at commit,
            # instead of a flush before every UPDATE.
            with uow.session.no_autoflush:
                for effect in effects:
                    if isinstance(effect, AgentAway | OfferCallback):
                        await self._tell(uow, effect)
                        continue
                    task = tasks.get(effect.task_id)
                    if task is None:
                        continue
                    move = by_task.get(task.id)
                    if move is not None:
                        # Moved twice in one step (a slot opens and an agent is free: enqueue,
                        # then reserve): one write of both, from the version first decided on.
                        move.steps.extend(_steps(effect, task, at))
                    else:
                        move = by_task[task.id] = Move(
                            task, _steps(effect, task, at), effect.version
                        )
                        moves.append(move)
                    if isinstance(effect, Reserve) and effect.auto_accept:
                        accepted.append(move)
                moved = await do_moves(uow, moves, now=at)
                for move in accepted:
                    agent = await uow.session.get(Agent, move.task.agent_id or "")
                    if move.task.id in moved and agent is not None:
                        await on_assigned(uow, move.task, agent)
        self.decisions += sum(isinstance(e, Reserve) and e.task_id in moved for e in effects)
        stale = {move.task.id for move in moves} - moved
        stale |= {i for i in ids if i not in tasks}
        if stale:
            async with self.db.transaction(write=False) as uow:
                rows = await uow.session.scalars(select(Task).where(Task.id.in_(stale)))
                for task in rows.all():
                    engine.set_task(task_snapshot(task), now, force=True)

    async def _tell(self, uow: UnitOfWork, effect: AgentAway | OfferCallback) -> None:
        if isinstance(effect, AgentAway):
            agent = await uow.session.get(Agent, effect.agent_id)
            if agent is not None and agent.presence == "available":
                await do_change_presence(uow, agent, "away", effect.reason)
            return
        task = await uow.session.get(Task, effect.task_id)
        if task is not None:
            uow.emit(
                CallbackOffered(
                    task_id=task.id,
                    visitor_id=task.visitor_id,
                    conversation_id=task.conversation_id,
                )
            )


def _steps(
    effect: Reserve | Expire | Enqueue | EndWrapUp | TimeOut, task: Task, at: datetime
) -> list[tuple[TaskCommand, dict[str, Any]]]:
    """The commands an engine decision stands for, with the columns each one sets."""
    if isinstance(effect, Reserve):
        deadline = datetime.fromtimestamp(effect.deadline, UTC) if effect.deadline else None
        reserve: dict[str, Any] = {
            "agent_id": effect.agent_id,
            "reserved_at": at,
            "deadline": deadline,
        }
        if effect.auto_accept:
            return [("reserve", reserve), ("accept", {"assigned_at": at, "deadline": None})]
        return [("reserve", reserve)]
    if isinstance(effect, Expire):
        return [("expire", {"agent_id": None, "deadline": None})]
    if isinstance(effect, Enqueue):
        return [("enqueue", {"queued_at": task.queued_at or at})]
    if isinstance(effect, EndWrapUp):
        return [("end_wrap_up", {"end_reason": task.end_reason or "completed"})]
    return [("time_out", {})]
