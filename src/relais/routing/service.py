"""Moving tasks in the store: every verb is one conditional write, one recorded transition and
one event, whichever process runs it.

A write names the version it read (``WHERE id = :id AND version = :version``); a writer that
lost a race changes nothing and gets ``Conflict``. That is what keeps a task from being held by
two agents even while two processes believe they run the engine (routing.leader fences its
writes too), and from being lost: every state lives in the row, the engine only caches it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, case, literal, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from relais.conversations.models import Conversation
from relais.conversations.service import do_assign, do_unassign
from relais.core.clock import utcnow
from relais.core.db import UnitOfWork
from relais.core.errors import Conflict, NotFound
from relais.identity.models import Agent
from relais.routing.domain import (
    FINAL_STATES,
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
    _as_written(task, values)
    _record(uow, task, command, before, now, previous_agent)
    return task


@dataclass(slots=True)
class Move:
    """One task's commands, applied in order as one write: e.g. reserve then accept."""

    task: Task
    steps: list[tuple[TaskCommand, dict[str, Any]]]
    version: int  # the version the decision was taken on


_Path = list[tuple[TaskCommand, TaskState]]  # each command and the state it was applied to

# Rows per statement: 100 tasks of 6 varying columns stay far below every driver's parameter cap.
_BATCH = 100


async def do_moves(uow: UnitOfWork, moves: list[Move], *, now: datetime) -> set[str]:
    """``do_move`` for many tasks at once: one conditional UPDATE per kind of move instead of
    one per task. Returns the ids of the tasks moved; the others changed meanwhile (their
    version moved on, or their state refuses a command) and are left as they are."""
    planned: dict[tuple[str, ...], list[tuple[Move, dict[str, Any], _Path]]] = {}
    for move in moves:
        task, state = move.task, cast(TaskState, move.task.state)
        values: dict[str, Any] = {}
        path: _Path = []
        try:
            for command, changes in move.steps:
                after = task_transition(state, command, task_id=task.id)
                path.append((command, state))
                values.update(changes)
                state = after
        except IllegalTaskTransition:
            continue
        values["state"] = state
        if state == "queued" and task.queued_at is None:
            values.setdefault("queued_at", now)
        if state in ("completed", "cancelled", "abandoned", "timed_out"):
            values.setdefault("ended_at", now)
            values.setdefault("end_reason", path[-1][0])
        planned.setdefault(tuple(sorted(values)), []).append((move, values, path))
    moved: set[str] = set()
    table = cast(Table, Task.__table__)
    for columns, group in planned.items():
        for i in range(0, len(group), _BATCH):
            chunk = group[i : i + _BATCH]
            assignments: dict[str, Any] = {"version": table.c.version + len(chunk[0][0].steps)}
            if len({len(m.steps) for m, _, _ in chunk}) > 1:
                assignments["version"] = case(
                    *[(table.c.id == m.task.id, m.version + len(m.steps)) for m, _, _ in chunk]
                )
            for column in columns:
                distinct = {repr(values[column]) for _, values, _ in chunk}
                if len(distinct) == 1:
                    assignments[column] = chunk[0][1][column]
                else:
                    assignments[column] = case(
                        *[
                            (table.c.id == m.task.id, literal(values[column], table.c[column].type))
                            for m, values, _ in chunk
                        ]
                    )
            rows = await uow.session.execute(
                update(table)
                .where(
                    tuple_(table.c.id, table.c.version).in_(
                        [(m.task.id, m.version) for m, _, _ in chunk]
                    )
                )
                .values(assignments)
                .returning(table.c.id)
            )
            done = set(rows.scalars())
            moved |= done
            for move, values, path in chunk:
                if move.task.id not in done:
                    continue
                task, previous_agent = move.task, move.task.agent_id
                version = move.version
                for (command, before), (_, changes) in zip(path, move.steps, strict=True):
                    version += 1
                    state = task_transition(before, command)
                    _as_written(task, {**changes, "version": version, "state": state})
                    _record(uow, task, command, before, now, previous_agent)
                    previous_agent = task.agent_id
                _as_written(task, values)
    return moved


async def do_set_priority(uow: UnitOfWork, task: Task, priority: int) -> Task:
    """A live task's priority changes (an e-mail SLA escalation): one conditional write, and a
    ``TaskChanged`` (command ``set_priority``) from which the engine re-ranks the task. Not a
    transition of the state machine: no ``task_events`` row, the figures are unchanged."""
    if task.state in FINAL_STATES:
        raise Conflict("The task has ended.", code="task_state")
    values = {"priority": priority, "version": task.version + 1}
    result = await uow.session.execute(
        update(Task)
        .where(Task.id == task.id, Task.version == task.version)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]  # CursorResult of an UPDATE
        raise Conflict("The task changed meanwhile.", code="task_changed")
    _as_written(task, values)
    uow.emit(TaskChanged(command="set_priority", task=TaskOut.of(task)))
    return task


def _as_written(task: Task, values: dict[str, Any]) -> None:
    """The row already holds ``values``: set them on the object without making it dirty, or
    the session would write them a second time, unconditionally, at flush."""
    for key, value in values.items():
        set_committed_value(task, key, value)


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


async def on_unassigned(uow: UnitOfWork, task: Task) -> None:
    """The channel's side of a task taken from its agent: the conversation waits, unassigned,
    for whoever accepts the task next (who gets it through ``on_assigned``)."""
    if task.conversation_id is None:
        return
    conversation = await uow.session.get(Conversation, task.conversation_id)
    if conversation is not None and conversation.status != "resolved":
        await do_unassign(uow, conversation)


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
