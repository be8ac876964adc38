"""The contact panel of the desk: who the customer is, what they did before, where they are."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import or_
from sqlalchemy.ext.asyncio import AsyncSession

from relais.contacts.models import Contact, Visitor
from relais.contacts.schemas import ContactOut, PageOut
from relais.contacts.service import page_path
from relais.conversations.models import Conversation
from relais.conversations.repository import conversations_out, get_readable, readable_by
from relais.conversations.schemas import ConversationOut
from relais.deps import CurrentAgent, RuntimeDep
from relais.identity.principals import AgentPrincipal

router = APIRouter(prefix="/conversations", tags=["conversations"])


class VisitorInfo(BaseModel):
    id: str
    claimed_name: str | None
    claimed_email: str | None
    lang: str
    user_agent: str | None
    created_at: datetime
    last_seen_at: datetime


class ContextOut(BaseModel):
    contact: ContactOut | None
    visitor: VisitorInfo | None
    # Unverified e-mail left with an offline message, if any.
    reply_to_email: str | None
    past_conversations: list[ConversationOut]
    current_page: PageOut | None
    pages: list[PageOut]


@router.get("/{conversation_id}/context")
async def conversation_context(
    conversation_id: str, agent: CurrentAgent, runtime: RuntimeDep
) -> ContextOut:
    async with runtime.db.transaction(write=False) as uow:
        conversation = await get_readable(uow.session, agent, conversation_id)
        return await context_of(uow.session, agent, conversation)


async def context_of(
    session: AsyncSession, agent: AgentPrincipal, conversation: Conversation
) -> ContextOut:
    """The panel's data; the caller has checked that ``agent`` may see ``conversation``."""
    contact = (
        await session.get(Contact, conversation.contact_id) if conversation.contact_id else None
    )
    visitor = (
        await session.get(Visitor, conversation.visitor_id) if conversation.visitor_id else None
    )
    owners = []
    if contact is not None:
        owners.append(Conversation.contact_id == contact.id)
    if visitor is not None:
        owners.append(Conversation.visitor_id == visitor.id)
    past: list[Conversation] = []
    if owners:
        rows = await session.scalars(
            readable_by(agent)
            .where(or_(*owners), Conversation.id != conversation.id)
            .order_by(Conversation.created_at.desc())
            .limit(20)
        )
        past = list(rows.all())
    views = await page_path(session, visitor.id) if visitor else []
    pages = [
        PageOut(
            url=v.url,
            title=v.title,
            started_at=v.started_at,
            seconds=(v.ended_at - v.started_at).total_seconds() if v.ended_at else None,
        )
        for v in views
    ]
    return ContextOut(
        contact=ContactOut.model_validate(contact) if contact else None,
        visitor=VisitorInfo.model_validate(visitor, from_attributes=True) if visitor else None,
        reply_to_email=conversation.reply_to_email,
        past_conversations=await conversations_out(session, past),
        current_page=pages[-1] if pages else None,
        pages=pages,
    )
