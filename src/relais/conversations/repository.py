"""Queries of conversations and messages, and their conversion to API models."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import cast

from sqlalchemy import Select, Table, bindparam, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import configure_mappers

from relais.contacts.models import Contact
from relais.conversations.access import can_read
from relais.conversations.models import Attachment, Conversation, Message
from relais.conversations.schemas import AttachmentOut, ConversationOut, ConversationRef, MessageOut
from relais.core import fast_sql
from relais.core.db import UnitOfWork
from relais.core.errors import NotFound
from relais.identity.models import Agent
from relais.identity.principals import AgentPrincipal, Principal, VisitorPrincipal


def ref_of(conversation: Conversation) -> ConversationRef:
    return ConversationRef(
        id=conversation.id,
        visitor_id=conversation.visitor_id,
        team_id=conversation.team_id,
        assignee_id=conversation.assignee_id,
    )


async def get_readable(
    session: AsyncSession, principal: Principal, conversation_id: str
) -> Conversation:
    """The conversation if the caller may read it. Missing and forbidden look the same."""
    conversation = (
        await session.get(Conversation, conversation_id) if len(conversation_id) <= 32 else None
    )
    if conversation is None or not can_read(principal, ref_of(conversation)):
        raise NotFound("No such conversation.", code="conversation_not_found")
    return conversation


_conversations = cast(Table, Conversation.__table__)
_CONVERSATION_BY_ID = select(_conversations).where(_conversations.c.id == bindparam("p_id"))


async def peek_readable(
    uow: UnitOfWork, principal: Principal, conversation_id: str
) -> Conversation:
    """Like get_readable, for the message hot path: one Core query and a detached object, which
    costs a fraction of an ORM load. Changes to it are not saved (writers use Core statements)."""
    rows = []
    if len(conversation_id) <= 32:
        rows = await fast_sql.fetch(uow, _CONVERSATION_BY_ID, {"p_id": conversation_id})
    conversation = _detached(rows[0]) if rows else None
    if conversation is None or not can_read(principal, ref_of(conversation)):
        raise NotFound("No such conversation.", code="conversation_not_found")
    return conversation


_new_conversation = Conversation.__mapper__.class_manager.new_instance


def _detached(row: dict[str, object]) -> Conversation:
    """A transient Conversation holding ``row`` as its loaded state, the way SQLAlchemy's own
    loader fills an instance: a tenth of the cost of the constructor, which records every
    attribute as a change."""
    if not Conversation.__mapper__.configured:
        # The first ORM query configures the mappers; a process whose first read is this one
        # must do it itself, or the instance's attributes are not instrumented yet.
        configure_mappers()
    conversation: Conversation = _new_conversation()
    conversation.__dict__.update(row)
    return conversation


def readable_by(principal: Principal) -> Select[Conversation]:
    """The conversations a principal may read, as a query (the SQL twin of can_read)."""
    query = select(Conversation)
    if isinstance(principal, VisitorPrincipal):
        return query.where(Conversation.visitor_id == principal.visitor_id)
    if principal.sees_everything:
        return query
    return query.where(
        or_(
            Conversation.assignee_id == principal.agent_id,
            Conversation.team_id.in_(principal.team_ids) if principal.team_ids else false(),
        )
    )


async def list_for(
    session: AsyncSession,
    principal: Principal,
    *,
    status: str | None,
    mine: bool = False,
    limit: int = 100,
) -> list[Conversation]:
    query = readable_by(principal)
    if status == "active":
        query = query.where(Conversation.status != "resolved")
    elif status is not None:
        query = query.where(Conversation.status == status)
    if mine and isinstance(principal, AgentPrincipal):
        query = query.where(Conversation.assignee_id == principal.agent_id)
    rows = await session.scalars(query.order_by(Conversation.updated_at.desc()).limit(limit))
    return list(rows.all())


async def conversations_out(
    session: AsyncSession, conversations: Sequence[Conversation]
) -> list[ConversationOut]:
    """API models with the contact's and assignee's names, in two queries for the whole list."""
    contact_ids = {c.contact_id for c in conversations if c.contact_id}
    agent_ids = {c.assignee_id for c in conversations if c.assignee_id}
    contacts: dict[str, str | None] = {}
    agents: dict[str, str] = {}
    if contact_ids:
        rows = await session.execute(
            select(Contact.id, Contact.name).where(Contact.id.in_(contact_ids))
        )
        contacts = {row.id: row.name for row in rows}
    if agent_ids:
        rows2 = await session.execute(select(Agent.id, Agent.name).where(Agent.id.in_(agent_ids)))
        agents = {row.id: row.name for row in rows2}
    out = []
    for c in conversations:
        model = ConversationOut.model_validate(c)
        model.contact_name = contacts.get(c.contact_id) if c.contact_id else None
        model.assignee_name = agents.get(c.assignee_id) if c.assignee_id else None
        out.append(model)
    return out


async def conversation_out(session: AsyncSession, conversation: Conversation) -> ConversationOut:
    return (await conversations_out(session, [conversation]))[0]


def attachment_out(attachment: Attachment) -> AttachmentOut:
    return AttachmentOut(
        id=attachment.id,
        filename=attachment.filename,
        content_type=attachment.content_type,
        size=attachment.size,
        url=f"/api/v1/attachments/{attachment.id}",
    )


def message_out(message: Message, attachments: Sequence[Attachment] = ()) -> MessageOut:
    return MessageOut(
        id=message.id,
        conversation_id=message.conversation_id,
        seq=message.seq,
        client_id=message.client_id,
        author_kind=message.author_kind,
        author_id=message.author_id,
        author_name=message.author_name,
        body=message.body,
        html=message.html,
        attachments=[attachment_out(a) for a in attachments],
        created_at=message.created_at,
    )


# Built once: a reconnecting client runs these for each of its conversations, and thousands of
# clients reconnect at once after a restart.
_MESSAGES_AFTER = (
    select(Message)
    .where(
        Message.conversation_id == bindparam("p_conversation"), Message.seq > bindparam("p_after")
    )
    .order_by(Message.seq)
    .limit(bindparam("p_limit"))
)
_ATTACHMENTS_OF = select(Attachment).where(
    Attachment.message_id.in_(bindparam("p_ids", expanding=True))
)


async def messages_after(
    session: AsyncSession, conversation_id: str, after: int, limit: int = 200
) -> list[MessageOut]:
    rows = await session.scalars(
        _MESSAGES_AFTER, {"p_conversation": conversation_id, "p_after": after, "p_limit": limit}
    )
    messages = list(rows.all())
    by_message: dict[str, list[Attachment]] = defaultdict(list)
    if messages:
        found = await session.scalars(_ATTACHMENTS_OF, {"p_ids": [m.id for m in messages]})
        for attachment in found:
            by_message[attachment.message_id or ""].append(attachment)
    return [message_out(m, by_message.get(m.id, ())) for m in messages]


_messages = cast(Table, Message.__table__)
# Precompiled Core statements for the hot path: ORM entity loading costs more than the query.
_MESSAGE_BY_CLIENT_ID = select(_messages.c.id).where(
    _messages.c.conversation_id == bindparam("p_conversation"),
    _messages.c.author_kind == bindparam("p_kind"),
    _messages.c.author_id == bindparam("p_author"),
    _messages.c.client_id == bindparam("p_client"),
)


async def find_by_client_id(
    uow: UnitOfWork,
    conversation_id: str,
    author_kind: str,
    author_id: str | None,
    client_id: str,
) -> Message | None:
    found = await fast_sql.fetch(
        uow,
        _MESSAGE_BY_CLIENT_ID,
        {
            "p_conversation": conversation_id,
            "p_kind": author_kind,
            "p_author": author_id,
            "p_client": client_id,
        },
    )
    return await uow.session.get(Message, found[0]["id"]) if found else None


async def open_conversation_of(session: AsyncSession, visitor_id: str) -> Conversation | None:
    return await session.scalar(
        select(Conversation).where(
            Conversation.visitor_id == visitor_id, Conversation.status != "resolved"
        )
    )
