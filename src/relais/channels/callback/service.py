"""Callbacks in the store: ``check_*`` reads and decides (with the rules of domain.py), ``do_*``
writes the request, moves its task of the universal queue and emits the visitor's event.

A request is a ``CallbackRequest`` row plus a task of channel ``callback``: queued at once for
"now", or ``scheduled`` with ``not_before`` at its slot's start, which the routing engine's slot
timer enqueues. Each attempt is a ``CallbackAttempt``; "no answer" and "busy" send the task back
to ``scheduled`` (``retry_later``) until the policy's last attempt (docs/architecture.md,
"Callbacks").
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import datetime
from typing import cast

from pydantic import ValidationError
from sqlalchemy import ColumnElement, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from relais.channels.callback.channel import CallbackChannel
from relais.channels.callback.domain import (
    CallbackState,
    Done,
    InvalidCallback,
    Outcome,
    RecentCounts,
    Slot,
    bookable_slots,
    check_request,
    check_time,
    next_after_outcome,
    normalise_phone,
    visitor_status,
)
from relais.channels.callback.events import CallbackChanged
from relais.channels.callback.models import CallbackAttempt, CallbackRequest
from relais.channels.callback.schemas import (
    AttemptOut,
    CallbackIn,
    CallbackOut,
    SlotOut,
    SlotsOut,
)
from relais.contacts.models import Visitor
from relais.conversations.models import Conversation
from relais.core.db import UnitOfWork
from relais.core.errors import AppError, Conflict, Invalid, NotFound
from relais.core.ids import new_id
from relais.identity.principals import AgentPrincipal, Principal
from relais.routing.domain import FINAL_STATES
from relais.routing.hours import BusinessHours
from relais.routing.models import Queue, Task
from relais.routing.service import do_complete, do_create_task, do_move, get_task, rules_of

log = logging.getLogger(__name__)

DAY_S, HOUR_S = 86_400, 3_600
_ID = re.compile(r"[0-9a-f]{32}")
# Creations are serialised on PostgreSQL so that two requests at once cannot both pass a rate
# limit they would together exceed (SQLite has one writer already). Any fixed 64-bit key.
_CREATE_LOCK = 0x5245_4C41_4953_4342  # "RELAISCB"


class CallbacksUnavailable(AppError):
    status_code = 503
    code = "callbacks_unavailable"


def ip_key(secret: str, ip: str) -> str:
    """What is stored of the requester's address: a keyed hash, enough to count requests."""
    return hashlib.sha256(f"{secret}:callback-ip:{ip}".encode()).hexdigest()


# -- reading ---------------------------------------------------------------------------------------


async def queue_of(uow: UnitOfWork, channel: CallbackChannel, default_queue_id: str) -> Queue:
    if channel.queue is None:
        queue = await uow.session.get(Queue, default_queue_id)
    else:
        queue = await uow.session.scalar(select(Queue).where(Queue.name == channel.queue))
    if queue is None:
        raise CallbacksUnavailable("Callbacks are not set up; please try again later.")
    return queue


def hours_of(queue: Queue) -> BusinessHours:
    """The queue's business hours; a queue without any is always open."""
    if queue.hours is None:
        return BusinessHours.always_open()
    try:
        return BusinessHours.model_validate(queue.hours)
    except ValidationError:
        # Stored by an older release or by hand: say so, and refuse rather than guess.
        log.exception("queue %s has business hours that are not valid", queue.id)
        raise CallbacksUnavailable("Callbacks are not available; please try again later.") from None


def check_slots(channel: CallbackChannel, queue: Queue) -> SlotsOut:
    hours, now = hours_of(queue), channel.clock()
    slots = bookable_slots(channel.policy, hours, now)
    return SlotsOut(
        open_now=hours.is_open(now),
        timezone=hours.timezone,
        slot_minutes=channel.policy.slot_minutes,
        slots=[SlotOut(start=start, end=end) for start, end in slots],
    )


async def recent_counts(
    session: AsyncSession, *, visitor_id: str, number: str, ip_hash: str, now: datetime
) -> RecentCounts:
    async def count(*where: ColumnElement[bool]) -> int:
        return int(await session.scalar(select(func.count(CallbackRequest.id)).where(*where)) or 0)

    day_ago = datetime.fromtimestamp(now.timestamp() - DAY_S, now.tzinfo)
    hour_ago = datetime.fromtimestamp(now.timestamp() - HOUR_S, now.tzinfo)
    return RecentCounts(
        by_visitor=await count(
            CallbackRequest.visitor_id == visitor_id, CallbackRequest.created_at > day_ago
        ),
        by_number=await count(
            CallbackRequest.number == number, CallbackRequest.created_at > day_ago
        ),
        by_ip=await count(
            CallbackRequest.ip_hash == ip_hash, CallbackRequest.created_at > hour_ago
        ),
    )


async def attempts_of(session: AsyncSession, callback_id: str) -> list[CallbackAttempt]:
    rows = await session.scalars(
        select(CallbackAttempt)
        .where(CallbackAttempt.callback_id == callback_id)
        .order_by(CallbackAttempt.number)
    )
    return list(rows.all())


async def callback_out(
    session: AsyncSession, channel: CallbackChannel, callback: CallbackRequest, task: Task
) -> CallbackOut:
    attempts = await attempts_of(session, callback.id)
    return CallbackOut(
        id=callback.id,
        task_id=callback.task_id,
        status=visitor_status(_state(callback), task.state, callback.attempts),
        number=callback.number,
        reason=callback.reason,
        lang=callback.lang,
        consent_at=callback.consent_at,
        slot_start=callback.slot_start,
        slot_end=callback.slot_end,
        conversation_id=callback.conversation_id,
        page_url=callback.page_url,
        page_title=callback.page_title,
        attempts=[AttemptOut.model_validate(a) for a in attempts],
        max_attempts=channel.policy.max_attempts,
        next_attempt_at=callback.next_attempt_at,
        outcome=callback.outcome,
        created_at=callback.created_at,
        ended_at=callback.ended_at,
    )


def _state(callback: CallbackRequest) -> CallbackState:
    return cast(CallbackState, callback.state)  # written by this module only


async def check_readable(
    uow: UnitOfWork, principal: Principal, callback_id: str
) -> tuple[CallbackRequest, Task]:
    """The callback and its task, if ``principal`` may see it: its visitor; the agent who holds
    its task or called it; supervisors. Anyone else learns nothing (404, as if it did not
    exist)."""
    if not _ID.fullmatch(callback_id):  # ids are ours (core.ids): anything else is no callback
        raise NotFound("No such callback.")
    callback = await uow.session.get(CallbackRequest, callback_id, populate_existing=True)
    if callback is None:
        raise NotFound("No such callback.")
    task = await get_task(uow, callback.task_id)
    if principal.kind == "visitor":
        if callback.visitor_id != principal.visitor_id:
            raise NotFound("No such callback.")
    elif not (principal.sees_everything or task.agent_id == principal.agent_id):
        called = await uow.session.scalar(
            select(CallbackAttempt.id).where(
                CallbackAttempt.callback_id == callback.id,
                CallbackAttempt.agent_id == principal.agent_id,
            )
        )
        if called is None:
            raise NotFound("No such callback.")
    return callback, task


async def visitors_callbacks(
    uow: UnitOfWork, channel: CallbackChannel, visitor_id: str, limit: int = 10
) -> list[CallbackOut]:
    rows = await uow.session.execute(
        select(CallbackRequest, Task)
        .join(Task, Task.id == CallbackRequest.task_id)
        .where(CallbackRequest.visitor_id == visitor_id)
        .order_by(CallbackRequest.created_at.desc())
        .limit(limit)
    )
    return [await callback_out(uow.session, channel, c, t) for c, t in rows.all()]


# -- the visitor's requests ---------------------------------------------------------------------


def _slot(start: datetime | None, end: datetime | None) -> Slot | None:
    if start is None and end is None:
        return None
    if start is None or end is None:
        raise InvalidCallback("invalid_slot", "A time to be called back has a start and an end.")
    return (start, end)


async def do_request(
    uow: UnitOfWork,
    channel: CallbackChannel,
    *,
    visitor_id: str,
    body: CallbackIn,
    ip_hash: str,
    queue: Queue,
) -> CallbackOut:
    """A visitor asks to be called back. Refused (and nothing written) without consent, for a
    number the policy refuses, past a rate limit, or at a time that can't be booked."""
    if not body.consent:
        raise Invalid("Please agree to be called back on this number.", code="consent_required")
    policy, now = channel.policy, channel.clock()
    number = normalise_phone(
        body.number,
        default_region=body.region or channel.default_region,
        allowed_countries=policy.allowed_countries,
    )
    requested = _slot(body.slot_start, body.slot_end)
    visitor = await uow.session.get(Visitor, visitor_id)
    if visitor is None:
        raise NotFound("Unknown visitor.")
    if body.conversation_id is not None:
        conversation = await uow.session.get(Conversation, body.conversation_id)
        if conversation is None or conversation.visitor_id != visitor_id:
            raise NotFound("No such conversation.")
    if uow.session.get_bind().dialect.name == "postgresql":
        await uow.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CREATE_LOCK})
    counts = await recent_counts(
        uow.session, visitor_id=visitor_id, number=number, ip_hash=ip_hash, now=now
    )
    plan = check_request(
        policy, number, now=now, requested_slot=requested, hours=hours_of(queue), counts=counts
    )
    reason = " ".join(body.reason.split())  # one line: no control characters, no layout
    callback_id = new_id()
    attributes: dict[str, object] = {
        "callback_id": callback_id,
        "phone": plan.number,
        "language": visitor.lang,
    }
    if reason:
        attributes["reason"] = reason
    if body.page_url:
        attributes["page_url"] = body.page_url
    if body.page_title:
        attributes["page_title"] = body.page_title
    if body.conversation_id:
        # Context only: the chat keeps its own task (a resolved chat must not end the callback).
        attributes["conversation_id"] = body.conversation_id
    requirements = {f"lang:{visitor.lang}": 1} if rules_of(queue).route_by_language else {}
    task = await do_create_task(
        uow,
        channel="callback",
        queue=queue,
        contact_id=visitor.contact_id,
        visitor_id=visitor_id,
        requirements=requirements,
        attributes=attributes,
        not_before=plan.not_before if requested else None,
    )
    callback = CallbackRequest(
        id=callback_id,
        task_id=task.id,
        queue_id=queue.id,
        visitor_id=visitor_id,
        conversation_id=body.conversation_id,
        number=plan.number,
        reason=reason,
        lang=visitor.lang,
        consent_at=now,
        slot_start=plan.not_before if requested else None,
        slot_end=plan.slot_end,
        page_url=body.page_url,
        page_title=body.page_title,
        ip_hash=ip_hash,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(callback)
    return await _emit(uow, channel, callback, task)


def _check_not_over(callback: CallbackRequest, task: Task) -> None:
    # Its task may have ended without it (the queue's last overflow step timed it out).
    if callback.state != "open" or task.state in FINAL_STATES:
        raise Conflict("This callback is over.", code="callback_over")


def _check_open(callback: CallbackRequest, task: Task) -> None:
    _check_not_over(callback, task)
    if task.state not in ("scheduled", "queued"):
        raise Conflict(
            "An agent is calling you now; it can't be changed.", code="callback_in_progress"
        )


async def do_change_time(
    uow: UnitOfWork,
    channel: CallbackChannel,
    callback: CallbackRequest,
    task: Task,
    queue: Queue,
    *,
    start: datetime | None,
    end: datetime | None,
) -> CallbackOut:
    """The visitor picks another slot, or "as soon as possible" (while the queue is open)."""
    _check_open(callback, task)
    now = channel.clock()
    requested = _slot(start, end)
    not_before, slot_end = check_time(channel.policy, hours_of(queue), now, requested)
    if requested is None:
        if task.state == "scheduled":
            await do_move(uow, task, "enqueue", not_before=None, queued_at=None)
    elif task.state == "scheduled":
        await do_move(uow, task, "reschedule", not_before=not_before, queued_at=None)
    else:
        # Waiting in the queue: it leaves it (the figures count a cancelled wait, which it is)
        # and a new task waits for the slot.
        await do_move(uow, task, "cancel", end_reason="rescheduled")
        task = await do_create_task(
            uow,
            channel="callback",
            queue=queue,
            contact_id=task.contact_id,
            visitor_id=task.visitor_id,
            requirements=task.requirements,
            attributes=task.attributes,
            priority=task.priority,
            not_before=not_before,
        )
        callback.task_id = task.id
    callback.slot_start = not_before if requested else None
    callback.slot_end = slot_end
    callback.next_attempt_at = None
    callback.updated_at = now
    return await _emit(uow, channel, callback, task)


async def do_cancel(
    uow: UnitOfWork, channel: CallbackChannel, callback: CallbackRequest, task: Task
) -> CallbackOut:
    """The visitor no longer wants the call: its task leaves the queue (or the agent's offer)."""
    _check_not_over(callback, task)
    if task.state not in ("scheduled", "queued", "reserved"):
        raise Conflict(
            "An agent is calling you now; it can't be cancelled.", code="callback_in_progress"
        )
    await do_move(uow, task, "cancel", deadline=None, end_reason="callback_cancelled")
    now = channel.clock()
    callback.state, callback.outcome = "cancelled", "cancelled"
    callback.ended_at = callback.updated_at = now
    callback.next_attempt_at = None
    return await _emit(uow, channel, callback, task)


# -- the agent's side ---------------------------------------------------------------------------


def _check_holder(callback: CallbackRequest, task: Task, agent: AgentPrincipal) -> None:
    if task.agent_id != agent.agent_id:
        raise NotFound("No such callback.")
    if task.state != "assigned" or callback.state != "open":
        raise Conflict("This callback is not yours to call now.", code="callback_not_assigned")


async def _attempt_of(
    session: AsyncSession, callback: CallbackRequest, agent_id: str, now: datetime
) -> CallbackAttempt | None:
    """The attempt this agent has under way, if any. One another agent left open (a supervisor
    moved the task to this agent in the middle of a call) ends here, with no outcome: this
    agent places a call of its own, and its outcome is its own."""
    attempt = await session.scalar(
        select(CallbackAttempt).where(
            CallbackAttempt.callback_id == callback.id,
            CallbackAttempt.outcome.is_(None),
            CallbackAttempt.ended_at.is_(None),
        )
    )
    if attempt is not None and attempt.agent_id != agent_id:
        attempt.ended_at = now
        return None
    return attempt


def _new_attempt(
    session: AsyncSession, callback: CallbackRequest, agent_id: str, call_ref: str, now: datetime
) -> CallbackAttempt:
    callback.attempts += 1
    attempt = CallbackAttempt(
        callback_id=callback.id,
        number=callback.attempts,
        agent_id=agent_id,
        call_ref=call_ref[:200],
        started_at=now,
    )
    session.add(attempt)
    return attempt


async def do_dial(
    uow: UnitOfWork,
    channel: CallbackChannel,
    callback: CallbackRequest,
    task: Task,
    agent: AgentPrincipal,
) -> tuple[str, CallbackOut]:
    """The agent who accepted the callback calls: through the Dialler, once per attempt (asked
    again, e.g. after a reload of the desk, it returns the call already placed)."""
    _check_holder(callback, task, agent)
    attempt = await _attempt_of(uow.session, callback, agent.agent_id, channel.clock())
    if attempt is None:
        call = await channel.dialler.place_call(
            callback.number, agent_id=agent.agent_id, task_id=task.id
        )
        now = channel.clock()
        attempt = _new_attempt(uow.session, callback, agent.agent_id, call, now)
        callback.next_attempt_at = None
        callback.updated_at = now
        await uow.session.flush()
    return attempt.call_ref, await _emit(uow, channel, callback, task)


async def do_record_outcome(
    uow: UnitOfWork,
    channel: CallbackChannel,
    callback: CallbackRequest,
    task: Task,
    queue: Queue,
    agent: AgentPrincipal,
    outcome: Outcome,
) -> CallbackOut:
    """How the call went. No answer or busy: the task goes back to ``scheduled`` for the next
    attempt after the policy's delay (at the next opening if the queue is closed then), until
    the last one; reached, wrong number or attempts exhausted: the task completes."""
    _check_holder(callback, task, agent)
    now = channel.clock()
    attempt = await _attempt_of(uow.session, callback, agent.agent_id, now)
    if attempt is None:
        # Called without going through the dialler (dialled by hand): the attempt counts.
        attempt = _new_attempt(uow.session, callback, agent.agent_id, "", now)
    attempt.outcome, attempt.ended_at = outcome, now
    callback.updated_at = now
    decision = next_after_outcome(channel.policy, outcome, callback.attempts, now)
    if isinstance(decision, Done):
        await do_complete(uow, task, reason=decision.reason)
        callback.state, callback.outcome = "done", decision.reason
        callback.ended_at = now
        callback.next_attempt_at = None
    else:
        not_before = hours_of(queue).next_open(decision.not_before) or decision.not_before
        await do_move(
            uow,
            task,
            "retry_later",
            not_before=not_before,
            agent_id=None,
            reserved_at=None,
            assigned_at=None,
            deadline=None,
            queued_at=None,
            attempts=callback.attempts,
        )
        callback.next_attempt_at = not_before
    await uow.session.flush()
    return await _emit(uow, channel, callback, task)


async def _emit(
    uow: UnitOfWork, channel: CallbackChannel, callback: CallbackRequest, task: Task
) -> CallbackOut:
    await uow.session.flush()
    out = await callback_out(uow.session, channel, callback, task)
    uow.emit(CallbackChanged(visitor_id=callback.visitor_id, callback=out))
    return out
