"""The SLA watch: one process (the ``mail-sla`` lease) looks at the open clocks of e-mail
tasks every ``check_s`` seconds and applies ``sla.check``'s escalations, each once.

For each open clock (``mail_slas``): the first response is the first agent message after the
mail arrived, the resolution the conversation's; ``sla.check`` says what is new (warn at
``warn_at`` of the time, breach at the due time); a breach raises the task's priority through
the routing service (the engine hears the ``TaskChanged`` and serves it sooner) and every step
tells the supervisors (``SlaAlert``, the ``sla`` frame). The escalation keys are written with
the step, in one transaction fenced by the lease, so a step is applied once however often the
watch runs. The level found (on time, at risk, breached) is kept for the wallboard; a clock
closes when its task ends.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Final, Literal

from sqlalchemy import and_, func, select

from relais.channels.email import sla
from relais.channels.email.events import SlaAlert
from relais.channels.email.models import MailSla
from relais.conversations.models import Conversation, Message
from relais.core.clock import utcnow
from relais.core.db import Database, UnitOfWork
from relais.core.errors import Conflict
from relais.routing.domain import FINAL_STATES
from relais.routing.hours import BusinessHours
from relais.routing.lease import StoreLease
from relais.routing.models import Queue, Task
from relais.routing.service import do_set_priority

log = logging.getLogger(__name__)

BATCH: Final = 500


async def sla_step(
    db: Database, lease: StoreLease, policy: sla.SlaPolicy, now: datetime | None = None
) -> bool:
    """Check every open clock once; False (nothing more to do before the next tick)."""
    now = now or utcnow()
    after = ""
    while True:
        async with db.transaction() as uow:
            await lease.fence(uow.session, now)
            done = await _check(uow, policy, now, after)
        if len(done) < BATCH:
            return False
        after = done[-1]


async def _check(uow: UnitOfWork, policy: sla.SlaPolicy, now: datetime, after: str) -> list[str]:
    session = uow.session
    rows = (
        await session.execute(
            select(MailSla, Task)
            .join(Task, Task.id == MailSla.task_id)
            .where(MailSla.open, MailSla.task_id > after)
            .order_by(MailSla.task_id)
            .limit(BATCH)
        )
    ).all()
    if not rows:
        return []
    ids = [clock.task_id for clock, _ in rows]
    answered = dict(
        (
            await session.execute(
                select(MailSla.task_id, func.min(Message.created_at))
                .join(
                    Message,
                    and_(
                        Message.conversation_id == MailSla.conversation_id,
                        Message.author_kind == "agent",
                        Message.created_at >= MailSla.received_at,
                    ),
                )
                .where(MailSla.task_id.in_(ids), MailSla.first_response_at.is_(None))
                .group_by(MailSla.task_id)
            )
        ).all()
    )
    resolved = dict(
        (
            await session.execute(
                select(Conversation.id, Conversation.resolved_at).where(
                    Conversation.id.in_({c.conversation_id for c, _ in rows if c.conversation_id}),
                    Conversation.status == "resolved",
                )
            )
        ).all()
    )
    hours = await _hours(uow, {task.queue_id for _, task in rows})
    for clock, task in rows:
        clock.first_response_at = clock.first_response_at or answered.get(clock.task_id)
        if clock.resolved_at is None and clock.conversation_id in resolved:
            clock.resolved_at = resolved[clock.conversation_id]
        await _escalate(uow, policy, clock, task, hours.get(task.queue_id), now)
        if task.state in FINAL_STATES:
            clock.open = False
    return ids


async def _hours(uow: UnitOfWork, queue_ids: set[str]) -> dict[str, BusinessHours | None]:
    queues = await uow.session.scalars(select(Queue).where(Queue.id.in_(queue_ids)))
    return {q.id: BusinessHours.model_validate(q.hours) if q.hours else None for q in queues.all()}


def state_of(clock: MailSla, priority: int) -> sla.SlaState:
    return sla.SlaState(
        received_at=clock.received_at,
        priority=priority,
        due=sla.DueTimes(clock.first_response_due, clock.resolution_due, clock.business_hours),
        first_response_at=clock.first_response_at,
        resolved_at=clock.resolved_at,
        escalated=frozenset(clock.escalated or ()),
    )


async def _escalate(
    uow: UnitOfWork,
    policy: sla.SlaPolicy,
    clock: MailSla,
    task: Task,
    hours: BusinessHours | None,
    now: datetime,
) -> None:
    live = task.state not in FINAL_STATES
    steps = sla.check(state_of(clock, task.priority), now, policy, hours) if live else []
    done = list(clock.escalated or ())
    for step in steps:
        if step.new_priority is not None:
            try:
                await do_set_priority(uow, task, step.new_priority)
            except Conflict:  # the engine moved it meanwhile: this step waits for the next tick
                break
        due = clock.first_response_due if step.clock == "first_response" else clock.resolution_due
        uow.emit(
            SlaAlert(
                type="sla.breached" if step.level == "breached" else "sla.at_risk",
                level=step.level,
                clock=step.clock,
                task_id=task.id,
                conversation_id=task.conversation_id,
                queue_id=task.queue_id,
                due_at=due or now,
                priority=task.priority,
            )
        )
        done.append(step.key)
        log.info("e-mail task %s: %s (priority %d)", task.id, step.key, task.priority)
    if steps:
        clock.escalated = done
    clock.level = worst(sla.status(state_of(clock, task.priority), now, policy, hours).values())


Level = Literal["on_time", "at_risk", "breached"]


def worst(statuses: Iterable[sla.Status]) -> Level:
    """The level of the clock most behind among those still running."""
    found: Level = "on_time"
    for status in statuses:
        if status == "breached":
            return "breached"
        if status == "at_risk":
            found = "at_risk"
    return found
