"""The ACD over HTTP: presence, offers (accept, reject), wrap-up, the screen pop, and what
supervisors do (move a task, change an agent's presence, edit queues)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select

from relais.core.db import UnitOfWork
from relais.core.errors import Forbidden, Invalid, NotFound
from relais.deps import CurrentAgent, RuntimeDep
from relais.identity.models import Agent
from relais.identity.principals import AgentPrincipal
from relais.identity.schemas import AgentOut, PresenceIn
from relais.identity.service import agent_out, do_change_presence
from relais.integrations.cti import pop_url
from relais.routing.events import QueueChanged
from relais.routing.models import Queue, Task
from relais.routing.queues import RoutingRules
from relais.routing.schemas import TaskOut
from relais.routing.screen_pop import ScreenPop, screen_pop_of
from relais.routing.service import (
    do_accept,
    do_end_wrap_up,
    do_move,
    do_reject,
    get_task,
    on_assigned,
    on_unassigned,
)

router = APIRouter(tags=["routing"])


def check_supervisor(agent: AgentPrincipal) -> AgentPrincipal:
    if not agent.sees_everything:
        raise Forbidden("Supervisors only.")
    return agent


async def _own_task(uow: UnitOfWork, agent: AgentPrincipal, task_id: str) -> Task:
    task = await get_task(uow, task_id)
    if task.agent_id != agent.agent_id and not agent.sees_everything:
        raise NotFound("No such task.")  # nobody learns which tasks exist
    return task


async def _agent_row(uow: UnitOfWork, agent_id: str) -> Agent:
    row = await uow.session.get(Agent, agent_id)
    if row is None:
        raise NotFound("No such agent.")
    return row


# -- presence ------------------------------------------------------------------------------------


@router.put("/agents/me/presence", tags=["agents"])
async def set_presence(body: PresenceIn, agent: CurrentAgent, runtime: RuntimeDep) -> AgentOut:
    async with runtime.db.transaction() as uow:
        row = await _agent_row(uow, agent.agent_id)
        await do_change_presence(uow, row, body.presence, body.reason)
        return agent_out(row)


@router.put("/agents/{agent_id}/presence", tags=["agents"])
async def set_agent_presence(
    agent_id: str, body: PresenceIn, agent: CurrentAgent, runtime: RuntimeDep
) -> AgentOut:
    check_supervisor(agent)
    async with runtime.db.transaction() as uow:
        row = await _agent_row(uow, agent_id)
        await do_change_presence(uow, row, body.presence, body.reason or f"set by {agent.name}")
        return agent_out(row)


# -- tasks ---------------------------------------------------------------------------------------


@router.get("/tasks")
async def list_tasks(
    agent: CurrentAgent,
    runtime: RuntimeDep,
    state: Annotated[list[str] | None, Query()] = None,
    queue_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[TaskOut]:
    """Live tasks: an agent's own; everyone's for supervisors."""
    states = state or ["scheduled", "queued", "reserved", "assigned", "wrap_up"]
    query = select(Task).where(Task.state.in_(states)).order_by(Task.created_at).limit(limit)
    if not agent.sees_everything:
        query = query.where(Task.agent_id == agent.agent_id)
    if queue_id:
        query = query.where(Task.queue_id == queue_id)
    async with runtime.db.transaction(write=False) as uow:
        return [TaskOut.of(t) for t in (await uow.session.scalars(query)).all()]


@router.get("/tasks/{task_id}/screen-pop")
async def screen_pop(task_id: str, agent: CurrentAgent, runtime: RuntimeDep) -> ScreenPop:
    """Who the customer is and what they did, shown with the offer, before accepting."""
    cti = runtime.settings.cti
    templates = (cti.pop_url_template, cti.pop_url_fallback_template)
    async with runtime.db.transaction(write=False) as uow:
        task = await _own_task(uow, agent, task_id)
        return await screen_pop_of(
            uow.session,
            agent,
            task,
            pop_url=(lambda values: pop_url(templates, values)) if any(templates) else None,
            open_on_accept=cti.open_on_accept,
        )


@router.post("/tasks/{task_id}/accept")
async def accept(task_id: str, agent: CurrentAgent, runtime: RuntimeDep) -> TaskOut:
    async with runtime.db.transaction() as uow:
        task = await _own_task(uow, agent, task_id)
        await do_accept(uow, task, await _agent_row(uow, agent.agent_id))
        return TaskOut.of(task)


@router.post("/tasks/{task_id}/reject")
async def reject(task_id: str, agent: CurrentAgent, runtime: RuntimeDep) -> TaskOut:
    async with runtime.db.transaction() as uow:
        task = await _own_task(uow, agent, task_id)
        await do_reject(uow, task, await _agent_row(uow, agent.agent_id))
        return TaskOut.of(task)


@router.post("/tasks/{task_id}/end-wrap-up")
async def end_wrap_up(task_id: str, agent: CurrentAgent, runtime: RuntimeDep) -> TaskOut:
    async with runtime.db.transaction() as uow:
        task = await _own_task(uow, agent, task_id)
        return TaskOut.of(await do_end_wrap_up(uow, task))


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    queue_id: str | None = Field(default=None, max_length=32)
    agent_id: str | None = Field(default=None, max_length=32)


@router.post("/tasks/{task_id}/transfer")
async def transfer(
    task_id: str, body: TransferIn, agent: CurrentAgent, runtime: RuntimeDep
) -> TaskOut:
    """A supervisor moves a task to another queue (routed again there) or straight to an agent
    (who gets it as an offer, over its capacity if need be: the supervisor decided)."""
    check_supervisor(agent)
    if (body.queue_id is None) == (body.agent_id is None):
        raise Invalid("Give either a queue or an agent.", code="transfer_target")
    async with runtime.db.transaction() as uow:
        task = await get_task(uow, task_id)
        queue_id = body.queue_id or task.queue_id
        if await uow.session.get(Queue, queue_id) is None:
            raise NotFound("No such queue.")
        target = None
        if body.agent_id is not None:
            target = await _agent_row(uow, body.agent_id)
            if not target.active:
                # They can't log in: the task would wait on a desk nobody opens.
                raise NotFound("No such agent.")
        if task.state != "queued" or body.queue_id is not None:
            await do_move(uow, task, "transfer", queue_id=queue_id, agent_id=None, deadline=None)
            if target is None:
                # The previous agent no longer answers in it; the next one gets it on accept.
                await on_unassigned(uow, task)
        if target is not None:
            now = datetime.now(UTC)
            await do_move(uow, task, "reserve", agent_id=target.id, reserved_at=now)
            await do_move(uow, task, "accept", assigned_at=now)
            await on_assigned(uow, task, target)
        return TaskOut.of(task)


# -- queues --------------------------------------------------------------------------------------


class QueueOut(BaseModel):
    id: str
    name: str
    channels: list[str]
    team_ids: list[str]
    overflow_team_ids: list[str]
    rules: dict[str, Any]
    hours: dict[str, Any] | None
    sl_target_s: int
    sl_goal: float


class QueueIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    channels: list[str] = Field(default_factory=lambda: ["chat"])
    team_ids: list[str] = Field(default_factory=list)
    overflow_team_ids: list[str] = Field(default_factory=list)
    rules: dict[str, Any] = Field(default_factory=dict)
    hours: dict[str, Any] | None = None
    sl_target_s: int = Field(default=20, ge=1, le=86400)
    sl_goal: float = Field(default=0.8, gt=0, le=1)


def _validated(body: QueueIn) -> dict[str, Any]:
    try:
        rules = RoutingRules.model_validate(body.rules)
    except ValidationError as exc:
        raise Invalid(f"Invalid routing rules: {exc.errors()[0]['msg']}") from exc
    return {**body.model_dump(), "rules": rules.model_dump(mode="json")}


@router.get("/queues")
async def list_queues(agent: CurrentAgent, runtime: RuntimeDep) -> list[QueueOut]:
    async with runtime.db.transaction(write=False) as uow:
        rows = await uow.session.scalars(select(Queue).order_by(Queue.name))
        return [QueueOut.model_validate(q, from_attributes=True) for q in rows.all()]


@router.post("/queues", status_code=201)
async def create_queue(body: QueueIn, agent: CurrentAgent, runtime: RuntimeDep) -> QueueOut:
    check_supervisor(agent)
    async with runtime.db.transaction() as uow:
        queue = Queue(**_validated(body))
        uow.session.add(queue)
        await uow.session.flush()
        uow.emit(QueueChanged(queue_id=queue.id))
        return QueueOut.model_validate(queue, from_attributes=True)


@router.put("/queues/{queue_id}")
async def update_queue(
    queue_id: str, body: QueueIn, agent: CurrentAgent, runtime: RuntimeDep
) -> QueueOut:
    check_supervisor(agent)
    async with runtime.db.transaction() as uow:
        queue = await uow.session.get(Queue, queue_id)
        if queue is None:
            raise NotFound("No such queue.")
        for key, value in _validated(body).items():
            setattr(queue, key, value)
        await uow.session.flush()
        uow.emit(QueueChanged(queue_id=queue.id))
        return QueueOut.model_validate(queue, from_attributes=True)
