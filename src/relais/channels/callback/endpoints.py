"""Callbacks over HTTP: the visitor asks, follows, moves or cancels its own; the agent who holds
the task dials and records how each call went (docs/api.md, "Callbacks")."""

from __future__ import annotations

from fastapi import APIRouter, Request

from relais.channels.callback.schemas import (
    CallbackIn,
    CallbackOut,
    DialOut,
    OutcomeIn,
    SlotsOut,
    TimeIn,
)
from relais.channels.callback.service import (
    callback_out,
    check_readable,
    check_slots,
    do_cancel,
    do_change_time,
    do_dial,
    do_record_outcome,
    do_request,
    ip_key,
    queue_of,
    visitors_callbacks,
)
from relais.core.db import UnitOfWork
from relais.deps import CurrentAgent, CurrentPrincipal, CurrentVisitor, RuntimeDep, client_address
from relais.routing.models import Queue, Task
from relais.runtime import Runtime

router = APIRouter(prefix="/callbacks", tags=["callbacks"])


async def _burst(runtime: Runtime, request: Request, what: str) -> None:
    """Requests per minute from one address, before anything is read: a flood costs nothing."""
    await runtime.limiter.hit(
        f"callback-{what}:{client_address(request)}",
        runtime.settings.rate_limits.anonymous_per_minute,
    )


async def _queue_of_task(uow: UnitOfWork, task: Task) -> Queue:
    queue = await uow.session.get(Queue, task.queue_id)
    assert queue is not None, "a task's queue is never deleted"
    return queue


@router.get("/slots")
async def slots(visitor: CurrentVisitor, runtime: RuntimeDep) -> SlotsOut:
    """Whether "now" is possible and the slots that can be booked, from the queue's hours."""
    async with runtime.db.transaction(write=False) as uow:
        queue = await queue_of(uow, runtime.callbacks, runtime.router.default_queue_id)
        return check_slots(runtime.callbacks, queue)


@router.post("", status_code=201)
async def request_callback(
    body: CallbackIn, request: Request, visitor: CurrentVisitor, runtime: RuntimeDep
) -> CallbackOut:
    """Ask to be called back, now or in a slot. Refusals are 422 (the number, the time, no
    consent) or 429 (too many requests by this visitor, for this number or from this address)
    and change nothing."""
    await _burst(runtime, request, "request")
    ip_hash = ip_key(runtime.settings.secret_key, client_address(request))
    async with runtime.db.transaction() as uow:
        queue = await queue_of(uow, runtime.callbacks, runtime.router.default_queue_id)
        return await do_request(
            uow,
            runtime.callbacks,
            visitor_id=visitor.visitor_id,
            body=body,
            ip_hash=ip_hash,
            queue=queue,
        )


@router.get("")
async def my_callbacks(visitor: CurrentVisitor, runtime: RuntimeDep) -> list[CallbackOut]:
    """The visitor's own callbacks, newest first (the widget shows the one still open)."""
    async with runtime.db.transaction(write=False) as uow:
        return await visitors_callbacks(uow, runtime.callbacks, visitor.visitor_id)


@router.get("/{callback_id}")
async def get_callback(
    callback_id: str, principal: CurrentPrincipal, runtime: RuntimeDep
) -> CallbackOut:
    """Its visitor, the agent who holds or called it, and supervisors may read it."""
    async with runtime.db.transaction(write=False) as uow:
        callback, task = await check_readable(uow, principal, callback_id)
        return await callback_out(uow.session, runtime.callbacks, callback, task)


@router.put("/{callback_id}/time")
async def change_time(
    callback_id: str, body: TimeIn, request: Request, visitor: CurrentVisitor, runtime: RuntimeDep
) -> CallbackOut:
    """Another slot, or as soon as possible; while it waits (not once an agent has it)."""
    await _burst(runtime, request, "change")
    async with runtime.db.transaction() as uow:
        callback, task = await check_readable(uow, visitor, callback_id)
        return await do_change_time(
            uow,
            runtime.callbacks,
            callback,
            task,
            await _queue_of_task(uow, task),
            start=body.slot_start,
            end=body.slot_end,
        )


@router.post("/{callback_id}/cancel")
async def cancel(callback_id: str, visitor: CurrentVisitor, runtime: RuntimeDep) -> CallbackOut:
    async with runtime.db.transaction() as uow:
        callback, task = await check_readable(uow, visitor, callback_id)
        return await do_cancel(uow, runtime.callbacks, callback, task)


@router.post("/{callback_id}/dial")
async def dial(callback_id: str, agent: CurrentAgent, runtime: RuntimeDep) -> DialOut:
    """The agent who accepted the callback calls the number: one attempt, placed once."""
    async with runtime.db.transaction() as uow:
        callback, task = await check_readable(uow, agent, callback_id)
        call, out = await do_dial(uow, runtime.callbacks, callback, task, agent)
        return DialOut(call=call, callback=out)


@router.post("/{callback_id}/outcome")
async def record_outcome(
    callback_id: str, body: OutcomeIn, agent: CurrentAgent, runtime: RuntimeDep
) -> CallbackOut:
    """reached | no_answer | busy | wrong_number, by the agent who holds the task."""
    async with runtime.db.transaction() as uow:
        callback, task = await check_readable(uow, agent, callback_id)
        return await do_record_outcome(
            uow,
            runtime.callbacks,
            callback,
            task,
            await _queue_of_task(uow, task),
            agent,
            body.outcome,
        )
