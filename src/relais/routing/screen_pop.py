"""The screen pop: what an agent sees of a task before accepting it (who the customer is, what
they did, how long they waited, the link into the company's CRM), and what the CTI webhook
sends (relais.integrations.webhooks): the same data, built here once."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from relais.contacts.models import Contact
from relais.contacts.schemas import ContactOut
from relais.conversations.context import ContextOut, context_of
from relais.conversations.models import Conversation
from relais.identity.principals import AgentPrincipal
from relais.routing.models import Task
from relais.routing.schemas import TaskOut

PopUrl = Callable[[Mapping[str, str | None]], str | None]


class ScreenPop(BaseModel):
    task: TaskOut
    context: ContextOut | None
    waited_s: float | None
    # The CRM page of this customer (RELAIS_CTI__POP_URL_TEMPLATE), or None.
    crm_url: str | None = None
    # Whether the desk opens it when the agent accepts (RELAIS_CTI__OPEN_ON_ACCEPT).
    crm_open_on_accept: bool = False


async def screen_pop_of(
    session: AsyncSession,
    viewer: AgentPrincipal,
    task: Task,
    *,
    pop_url: PopUrl | None = None,
    open_on_accept: bool = False,
    now: datetime | None = None,
) -> ScreenPop:
    """The caller has checked that ``viewer`` may see the task (offered it, or a supervisor)."""
    context = None
    if task.conversation_id is not None:
        conversation = await session.get(Conversation, task.conversation_id)
        if conversation is not None:
            # Offered the task, the agent may see its conversation even from another team.
            context = await context_of(session, viewer, conversation)
    waited = None
    if task.queued_at is not None:
        end = task.assigned_at or now or datetime.now(UTC)
        waited = max(0.0, (end - task.queued_at).total_seconds())
    crm_url = None
    if pop_url is not None:
        contact: ContactOut | None = context.contact if context else None
        if contact is None and task.contact_id:
            row = await session.get(Contact, task.contact_id)
            contact = ContactOut.model_validate(row) if row is not None else None
        crm_url = pop_url(
            {
                "external_id": contact.external_id if contact else None,
                "contact_id": contact.id if contact else None,
                "email": contact.emails[0] if contact and contact.emails else None,
                "phone": contact.phones[0] if contact and contact.phones else None,
                "task_id": task.id,
                "conversation_id": task.conversation_id,
                "queue_id": task.queue_id,
                "channel": task.channel,
                "agent_id": task.agent_id,
            }
        )
    return ScreenPop(
        task=TaskOut.of(task),
        context=context,
        waited_s=waited,
        crm_url=crm_url,
        crm_open_on_accept=open_on_accept and crm_url is not None,
    )
