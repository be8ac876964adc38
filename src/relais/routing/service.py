"""Moving tasks in the store: every verb is one conditional write, one recorded transition and
one event, whichever process runs it.

A write names the version it read (``WHERE id = :id AND version = :version``); a writer that
lost a race changes nothing and gets ``Conflict``. That is what keeps a task from being held by
two agents even while two processes believe they run the engine (routing.leader fences its
writes too), and from being lost: every state lives in the row, the engine only caches it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from relais.conversations.models import Conversation
from relais.conversations.service import do_assign
from relais.core.clock import utcnow
from relais.core.db import UnitOfWork
from relais.core.errors import Conflict, NotFound
from relais.identity.models import Agent
from relais.routing.domain import (
    IllegalTaskTransition,
    TaskCommand,
    TaskState,
    task_transition,
)
from relais.routing.events import TaskChanged
from relais.routing.models import Queue, Task, TaskEvent
from relais.routing.queues import RoutingRules
from relais.routing.schemas import TaskOut

DEFAULT_CAPACITY = {"chat": 3, "email": 2, "callback": 1, "voice": 1}


def capacity_of(agent: Agent) -> dict[str, int]:
    return {**DEFAULT_CAPACITY, "chat": agent.max_chats, **(agent.capacity or {})}


async def get_or_create_queue(
    session: AsyncSession, name: str, *, team_id: str, rules: RoutingRules
) -> Queue:
    queue = await session.scalar(select(Queue).where(Queue.name == name))
    if queue is None:
        queue = Queue(
            name=name,
            channels=["chat"],
            team_ids=[team_id],
            rules=rules.model_dump(mode="json"),
        )
        session.add(queue)
        await session.flush()
    return queue


def rules_of(queue: Queue) -> RoutingRules:
    return RoutingRules.model_validate(queue.rules or {})


async def do_create_task(
    uow: UnitOfWork,
    *,
    channel: str,
    queue: Queue,
    conversation_id: str | None = None,
    contact_id: str | None = None,
    visitor_id: str | None = None,
    requirements: dict[str, int] | None = None,
    priority: int = 0,
    attributes: dict[str, Any] | None = None,
    not_before: datetime | None = None,
) -> Task:
    now = utcnow()
    scheduled = not_before is not None and not_before > now
    task = Task(
        channel=channel,
        queue_id=queue.id,
        state="scheduled" if scheduled else "queued",
        version=1,
        priority=priority,
        requirements=requirements or {},
        attributes=attributes or {},
        conversation_id=conversation_id,
        contact_id=contact_id,
        visitor_id=visitor_id,
        created_at=now,
        queued_at=None if scheduled else now,
        not_before=not_before if scheduled else None,
    )
    uow.session.add(task)
    await uow.session.flush()
    _record(uow, task, "create", None, now)
    return task


async def do_move(
    uow: UnitOfWork,
    task: Task,
    command: TaskCommand,
    *,
    version: int | None = None,
    now: datetime | None = None,
    **changes: Any,
) -> Task:
    """Apply ``command`` to the task as read at ``version`` (its current one by default)."""
    now = now or utcnow()
    expected = task.version if version is None else version
    try:
        state: TaskState = task_transition(task.state, command, task_id=task.id)  # type: ignore[arg-type]  # states are written by this module only
    except IllegalTaskTransition as exc:
        raise Conflict(str(exc), code="task_state") from exc
    before, previous_agent = task.state, task.agent_id
    values = {"state": state, "version": expected + 1, **changes}
    if state == "queued" and task.queued_at is None:
        values["queued_at"] = now
    if state in ("completed", "cancelled", "abandoned", "timed_out"):
        values.setdefault("ended_at", now)
        values.setdefault("end_reason", command)
    result = await uow.session.execute(
        update(Task)
        .where(Task.id == task.id, Task.version == expected)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]  # CursorResult of an UPDATE
        raise Conflict("The task changed meanwhile.", code="task_changed")
    for key, value in values.items():
        setattr(task, key, value)
    _record(uow, task, command, before, now, previous_agent)
    return task


def _record(
    uow: UnitOfWork,
    task: Task,
    command: str,
    before: str | None,
    now: datetime,
    previous_agent: str | None = None,
) -> None:
    uow.session.add(
        TaskEvent(
            task_id=task.id,
            queue_id=task.queue_id,
            channel=task.channel,
            agent_id=task.agent_id,
            command=command,
            from_state=before,
            to_state=task.state,
            at=now,
        )
    )
    uow.emit(TaskChanged(command=command, task=TaskOut.of(task), previous_agent_id=previous_agent))


async def get_task(uow: UnitOfWork, task_id: str) -> Task:
    task = await uow.session.get(Task, task_id, populate_existing=True)
    if task is None:
        raise NotFound("No such task.")
    return task


# -- what agents do ------------------------------------------------------------------------------


async def do_accept(uow: UnitOfWork, task: Task, agent: Agent) -> Task:
    if task.state != "reserved" or task.agent_id != agent.id:
        raise Conflict("This offer is no longer yours.", code="offer_gone")
    await do_move(uow, task, "accept", assigned_at=utcnow(), deadline=None)
    await on_assigned(uow, task, agent)
    return task


async def on_assigned(uow: UnitOfWork, task: Task, agent: Agent) -> None:
    """The channel's side of an assignment: the conversation gets its agent."""
    if task.conversation_id is None:
        return
    conversation = await uow.session.get(Conversation, task.conversation_id)
    if conversation is not None and conversation.status != "resolved":
        await do_assign(uow, conversation, agent)


async def do_reject(uow: UnitOfWork, task: Task, agent: Agent) -> Task:
    if task.state != "reserved" or task.agent_id != agent.id:
        raise Conflict("This offer is no longer yours.", code="offer_gone")
    return await do_move(uow, task, "reject", agent_id=None, deadline=None, reserved_at=None)


async def do_complete(uow: UnitOfWork, task: Task, *, reason: str = "completed") -> Task:
    """The work is done: wrap-up for the queue's time, or completed at once without one."""
    queue = await uow.session.get(Queue, task.queue_id)
    wrap_up_s = rules_of(queue).wrap_up_s if queue else 0.0
    now = utcnow()
    await do_move(uow, task, "complete", now=now, wrap_up_until=now + timedelta(seconds=wrap_up_s))
    if wrap_up_s <= 0:
        await do_move(uow, task, "end_wrap_up", now=now, end_reason=reason)
    else:
        task.end_reason = reason
    return task


async def do_end_wrap_up(uow: UnitOfWork, task: Task) -> Task:
    return await do_move(uow, task, "end_wrap_up", end_reason=task.end_reason or "completed")


async def do_complete_for_conversation(uow: UnitOfWork, conversation_id: str) -> None:
    """The conversation is resolved: its live task ends (completed if an agent had it)."""
    tasks = await uow.session.scalars(
        select(Task).where(
            Task.conversation_id == conversation_id,
            Task.state.in_(("scheduled", "queued", "reserved", "assigned")),
        )
    )
    for task in tasks.all():
        if task.state == "assigned":
            await do_complete(uow, task, reason="resolved")
        else:
            await do_move(uow, task, "cancel", end_reason="resolved")


async def live_task_of_conversation(uow: UnitOfWork, conversation_id: str) -> Task | None:
    return await uow.session.scalar(
        select(Task).where(
            Task.conversation_id == conversation_id,
            Task.state.not_in(("completed", "cancelled", "abandoned", "timed_out")),
        )
    )
