"""Where a new e-mail conversation's task goes: the admin's triage rules first, then the intent
model for what no rule decided, and the SLA clocks of the task. The decisions are triage.py's,
intent.py's and sla.py's; this module reads what they need and says what was decided, so that
the task's attributes tell the agent why (the screen pop shows them).

Rules beat the model: a rule that set the queue (or tags) is the admin's word, and the model's
guess for it is only recorded. Below its threshold the model applies nothing either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from relais.channels.email import sla
from relais.channels.email.body import split_quoted
from relais.channels.email.intent import Prediction
from relais.channels.email.intent_store import IntentStore
from relais.channels.email.models import MailSla
from relais.channels.email.parse import ParsedMail
from relais.channels.email.rule_store import RuleStore
from relais.channels.email.triage import (
    MAX_BODY,
    TriageResult,
    evaluate,
    facts_from_mail,
    scalar_attributes,
)
from relais.contacts.models import Contact
from relais.routing.hours import BusinessHours
from relais.routing.models import Queue, Task


@dataclass(slots=True)
class Placement:
    queue: Queue
    spam: bool = False
    skills: dict[str, int] = field(default_factory=dict)
    priority: int = 0
    attributes: dict[str, Any] = field(default_factory=dict)


async def place(
    session: AsyncSession,
    *,
    rules: RuleStore,
    intent: IntentStore,
    mail: ParsedMail,
    language: str,
    contact: Contact | None,
    queue: Queue,
    mailbox_address: str,
) -> Placement:
    """The queue, skills, priority and tags of a new conversation's task, and why."""
    out = Placement(queue)
    triaged: TriageResult | None = None
    rule_set = await rules.current(session)
    if rule_set.rules:
        facts = facts_from_mail(
            mail,
            language=language,
            customer=scalar_attributes(contact.attributes if contact else {}),
            mailbox=mailbox_address,
        )
        triaged = evaluate(rule_set, facts)
        if triaged.spam:  # the admin's rules say spam: kept, never routed nor answered
            return Placement(queue, spam=True)
        out.skills, out.priority = dict(triaged.skills), triaged.priority or 0
        if triaged.fired:
            out.attributes["triage"] = [f.rule_id for f in triaged.fired]
        if triaged.tags:
            out.attributes["tags"] = list(triaged.tags)
        if triaged.queue:
            out.queue = await _queue_named(session, triaged.queue) or queue
    model = await intent.current(session)
    if model.queues:
        body = split_quoted(mail.text[:MAX_BODY]).new_text or mail.text[:MAX_BODY]
        prediction = model.predict(mail.subject, body)
        out.attributes["intent"] = await _apply(session, prediction, triaged, out)
    return out


async def _apply(
    session: AsyncSession, prediction: Prediction, triaged: TriageResult | None, out: Placement
) -> dict[str, Any]:
    """Apply what the model is sure of and no rule decided; what it guessed, for the agent."""
    applied: list[str] = []
    best = prediction.queue
    if best is not None and not (triaged and triaged.queue):
        predicted = await _queue_named(session, best.label)
        if predicted is not None:
            out.queue = predicted
            applied.append("queue")
    tags = [g.label for g in prediction.tags]
    if tags and not (triaged and triaged.tags):
        out.attributes["tags"] = tags
        applied.append("tags")
    top = prediction.queues[0] if prediction.queues else None
    return {
        "queue": top.label if top else None,
        "confidence": round(top.confidence, 3) if top else None,
        "tags": [{"tag": g.label, "confidence": round(g.confidence, 3)} for g in prediction.tags],
        "applied": applied,  # empty: below the threshold, or the rules decided
    }


async def _queue_named(session: AsyncSession, name: str) -> Queue | None:
    queue: Queue | None = await session.scalar(select(Queue).where(Queue.name == name))
    return queue


def due_of(policy: sla.SlaPolicy, queue: Queue, priority: int, at: datetime) -> sla.DueTimes:
    """When a task of ``queue`` created at ``at`` must be answered and resolved."""
    hours = BusinessHours.model_validate(queue.hours) if queue.hours else None
    return sla.due_times(policy, queue.name, priority, at, hours)


def sla_attributes(due: sla.DueTimes) -> dict[str, Any]:
    if due.first_response is None and due.resolution is None:
        return {}
    return {
        "sla_first_response_due": due.first_response.isoformat() if due.first_response else None,
        "sla_resolution_due": due.resolution.isoformat() if due.resolution else None,
    }


def sla_row(task: Task, due: sla.DueTimes, received_at: datetime) -> MailSla | None:
    """The SLA clocks of a new e-mail task (sla_watch.py checks them); None without a target."""
    if due.first_response is None and due.resolution is None:
        return None
    return MailSla(
        task_id=task.id,
        conversation_id=task.conversation_id,
        queue_id=task.queue_id,
        received_at=received_at,
        first_response_due=due.first_response,
        resolution_due=due.resolution,
        business_hours=due.business_hours,
        escalated=[],
        level="on_time",
        open=True,
    )
