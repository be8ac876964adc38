"""Writes to conversations: ``check_*`` authorises and validates, ``do_*`` writes and emits.

Every ``do_*`` runs inside a unit of work; its events are published once that commits.
"""

from __future__ import annotations

from typing import Any, Protocol, cast

from sqlalchemy import Table, bindparam, insert, inspect, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from relais.contacts.models import Contact, Visitor
from relais.conversations import markup
from relais.conversations.access import can_write
from relais.conversations.domain import IllegalTransition, InvalidBody, clean_body, transition
from relais.conversations.events import ConversationChanged, MessageCreated, ReadUpTo
from relais.conversations.models import Attachment, Conversation, Message, TranscriptRequest
from relais.conversations.repository import (
    attachment_out,
    conversation_out,
    find_by_client_id,
    message_out,
    open_conversation_of,
    ref_of,
)
from relais.conversations.schemas import MessageOut
from relais.core import fast_sql
from relais.core.clock import utcnow
from relais.core.db import UnitOfWork, UTCDateTime
from relais.core.errors import Conflict, Forbidden, Invalid
from relais.core.ids import new_id
from relais.identity.models import Agent
from relais.identity.principals import AgentPrincipal, Principal, VisitorPrincipal

_SYSTEM_TEXT = {
    "joined": {"en": "{name} joined the conversation.", "fr": "{name} a rejoint la conversation."},
    "resolved": {"en": "The conversation was resolved.", "fr": "La conversation est terminée."},
}


class Assigner(Protocol):
    """Hands conversations to the ACD (relais.routing.router.AcdRouter), which finds the agent:
    conversations do not know how routing works, only when to ask for it."""

    async def route(self, uow: UnitOfWork, conversation: Conversation) -> None:
        """A new conversation waits for an agent: queue it."""
        ...

    async def resolved(self, uow: UnitOfWork, conversation: Conversation) -> None:
        """The conversation is resolved: its agent's slot frees up (after wrap-up)."""
        ...


_visitors, _contacts = cast(Table, Visitor.__table__), cast(Table, Contact.__table__)
_AUTHOR_NAME = (
    select(_contacts.c.name, _visitors.c.claimed_name)
    .select_from(_visitors.outerjoin(_contacts, _contacts.c.id == _visitors.c.contact_id))
    .where(_visitors.c.id == bindparam("p_visitor"))
)


async def _author_name(uow: UnitOfWork, principal: Principal) -> str | None:
    if isinstance(principal, AgentPrincipal):
        return principal.name
    rows = await fast_sql.fetch(uow, _AUTHOR_NAME, {"p_visitor": principal.visitor_id})
    if not rows:
        return None
    name: str | None = rows[0]["name"] or rows[0]["claimed_name"]
    return name


async def _visitor_lang(session: AsyncSession, conversation: Conversation) -> str:
    if conversation.visitor_id is None:
        return "en"
    visitor = await session.get(Visitor, conversation.visitor_id)
    return visitor.lang if visitor and visitor.lang in ("en", "fr") else "en"


def _next_seq_statement(reader: str | None, *, status: bool) -> Any:
    table = cast(Table, Conversation.__table__)
    values: dict[str, Any] = {
        "last_seq": table.c.last_seq + 1,
        "updated_at": bindparam("p_now", type_=UTCDateTime()),
    }
    if status:
        # Only when it changes: status is in three indexes, which a write of the same value
        # still rewrites (a third of the statement's time on SQLite).
        values["status"] = bindparam("p_status")
    if reader is not None:
        values[f"{reader}_read_seq"] = table.c.last_seq + 1
    return (
        update(table)
        .where(table.c.id == bindparam("p_id"))
        .values(**values)
        .returning(table.c.last_seq)
    )


# Built once: the hot path reuses compiled statements instead of building and hashing new ones.
# By author kind (None: a system message), then by whether the status changes.
_NEXT_SEQ = {
    (kind, status): _next_seq_statement(kind, status=status)
    for kind in ("visitor", "agent", None)
    for status in (True, False)
}
_INSERT_MESSAGE = insert(cast(Table, Message.__table__))


async def _next_seq(
    uow: UnitOfWork, conversation: Conversation, status: str, author_kind: str
) -> int:
    """Take the conversation's next sequence number, in one UPDATE … RETURNING.

    The row lock (PostgreSQL) or the single writer (SQLite) orders concurrent senders, so
    sequences are gapless and unique per conversation. The author has read what it wrote."""
    now = utcnow()
    reader = author_kind if author_kind in ("visitor", "agent") else None
    params = {"p_id": conversation.id, "p_now": now}
    if status != conversation.status or inspect(conversation).attrs.status.history.has_changes():
        # A status set in memory and not flushed yet is written too (set_committed_value
        # below would otherwise drop it).
        params["p_status"] = status
    rows = await fast_sql.fetch(uow, _NEXT_SEQ[reader, "p_status" in params], params)
    seq = rows[0]["last_seq"]
    assert isinstance(seq, int)
    # Mirror the row in memory without marking it dirty: no second UPDATE at flush.
    for key, value in (("last_seq", seq), ("status", status), ("updated_at", now)):
        set_committed_value(conversation, key, value)
    if reader is not None:
        set_committed_value(conversation, f"{reader}_read_seq", seq)
    return seq


async def _insert_message(
    uow: UnitOfWork,
    conversation: Conversation,
    *,
    author_kind: str,
    author_id: str | None,
    author_name: str | None,
    body: str,
    client_id: str | None,
    status: str,
    attachments: list[Attachment] | None = None,
    html: str | None = None,
) -> MessageOut:
    seq = await _next_seq(uow, conversation, status, author_kind)
    message_id = new_id()
    row = {
        "id": message_id,
        "conversation_id": conversation.id,
        "seq": seq,
        "client_id": client_id,
        "author_kind": author_kind,
        "author_id": author_id,
        "author_name": author_name,
        "body": body,
        "html": markup.render(body) if html is None else html,
        "created_at": utcnow(),
    }
    # A Core insert: the message is not needed as an ORM object, and this is the hot path.
    await fast_sql.fetch(uow, _INSERT_MESSAGE, row)
    for attachment in attachments or []:
        attachment.message_id = message_id
    out = MessageOut(**row, attachments=[attachment_out(a) for a in attachments or []])
    uow.emit(
        MessageCreated(
            ref=ref_of(conversation),
            message=out,
            conversation_status=conversation.status,
        )
    )
    return out


async def do_system_message(
    uow: UnitOfWork, conversation: Conversation, key: str, **kw: str
) -> None:
    lang = await _visitor_lang(uow.session, conversation)
    text = _SYSTEM_TEXT[key][lang].format(**kw)
    await _insert_message(
        uow,
        conversation,
        author_kind="system",
        author_id=None,
        author_name=None,
        body=text,
        client_id=None,
        status=conversation.status,
    )


async def _claim_attachments(
    uow: UnitOfWork, principal: Principal, conversation: Conversation, ids: list[str]
) -> list[Attachment]:
    if not ids:
        return []
    found = list(
        (
            await uow.session.scalars(
                select(Attachment).where(
                    Attachment.id.in_(ids),
                    Attachment.conversation_id == conversation.id,
                    Attachment.uploader_kind == principal.kind,
                    Attachment.uploader_id == principal.id,
                    Attachment.message_id.is_(None),
                )
            )
        ).all()
    )
    if len(found) != len(set(ids)):
        raise Invalid("Unknown or already sent attachment.", code="attachment_not_found")
    return found


async def do_post_message(
    uow: UnitOfWork,
    principal: Principal,
    conversation: Conversation,
    *,
    client_id: str,
    body: str,
    attachment_ids: list[str],
    max_chars: int,
) -> tuple[MessageOut, bool]:
    """Post a message; returns (message, created). A known client id returns the first one."""
    author_id = principal.id
    existing = await find_by_client_id(uow, conversation.id, principal.kind, author_id, client_id)
    if existing is not None:
        return message_out(existing), False
    if not can_write(principal, ref_of(conversation)):
        raise Forbidden(
            "Only the agent who holds this conversation answers it; the queue offers the "
            "waiting ones.",
            code="not_your_conversation",
        )
    try:
        text = clean_body(body, max_chars=max_chars)
    except InvalidBody as exc:
        raise Invalid(str(exc), code="message_too_long") from exc
    if not text and not attachment_ids:
        raise Invalid("A message cannot be empty.", code="message_empty")
    command = "visitor_message" if principal.kind == "visitor" else "agent_message"
    try:
        status = transition(conversation.status, command, conversation_id=conversation.id)  # type: ignore[arg-type]  # checked on write
    except IllegalTransition as exc:
        raise Conflict("This conversation is resolved.", code="conversation_resolved") from exc
    attachments = await _claim_attachments(uow, principal, conversation, attachment_ids)
    name = await _author_name(uow, principal)
    # A concurrent retry with the same client id fails on the unique constraint; the caller
    # (commands.post_message) then returns the message that won.
    out = await _insert_message(
        uow,
        conversation,
        author_kind=principal.kind,
        author_id=author_id,
        author_name=name,
        body=text,
        client_id=client_id,
        status=status,
        attachments=attachments,
    )
    return out, True


async def do_channel_message(
    uow: UnitOfWork,
    conversation: Conversation,
    *,
    author_name: str | None,
    body: str,
    html: str,
    attachments: list[Attachment],
) -> MessageOut:
    """The customer wrote through another channel (an e-mail): ``html`` was made safe by that
    channel (relais.channels.email.body), ``attachments`` are rows it has just stored."""
    try:
        status = transition(conversation.status, "visitor_message", conversation_id=conversation.id)  # type: ignore[arg-type]  # checked on write
    except IllegalTransition as exc:
        raise Conflict("This conversation is resolved.", code="conversation_resolved") from exc
    return await _insert_message(
        uow,
        conversation,
        author_kind="visitor",
        author_id=None,
        author_name=author_name,
        body=body,
        client_id=None,
        status=status,
        attachments=attachments,
        html=html,
    )


async def do_assign(
    uow: UnitOfWork, conversation: Conversation, agent: Agent, *, announce: bool = True
) -> None:
    """Give the conversation to an agent. Clients hear of the assignment before the "joined"
    message, so the conversation is known when its messages arrive."""
    conversation.assignee_id = agent.id
    conversation.updated_at = utcnow()
    await uow.session.flush()
    if announce:
        out = await conversation_out(uow.session, conversation)
        uow.emit(ConversationChanged(reason="assigned", conversation=out))
    await do_system_message(uow, conversation, "joined", name=agent.name)


async def do_unassign(uow: UnitOfWork, conversation: Conversation) -> None:
    """Take the conversation back from its agent (its task went to another queue): nobody holds
    it until the next agent accepts, so the previous one stops answering in it."""
    if conversation.assignee_id is None:
        return
    conversation.assignee_id = None
    conversation.updated_at = utcnow()
    await uow.session.flush()
    out = await conversation_out(uow.session, conversation)
    uow.emit(ConversationChanged(reason="unassigned", conversation=out))


async def do_start_conversation(
    uow: UnitOfWork,
    visitor: VisitorPrincipal,
    *,
    team_id: str,
    assigner: Assigner,
    reply_to_email: str | None = None,
) -> tuple[Conversation, bool]:
    """The visitor's conversation that is not resolved, created if there is none."""
    session = uow.session
    existing = await open_conversation_of(session, visitor.visitor_id)
    if existing is not None:
        return existing, False
    row = await session.get(Visitor, visitor.visitor_id)
    conversation = Conversation(
        visitor_id=visitor.visitor_id,
        contact_id=row.contact_id if row else None,
        team_id=team_id,
        reply_to_email=reply_to_email,
    )
    # Concurrent starts: the unique index on open conversations lets exactly one through; the
    # others fail here and are run again by Database.run, finding the winner's conversation.
    session.add(conversation)
    await session.flush()
    uow.emit(
        ConversationChanged(
            reason="created", conversation=await conversation_out(session, conversation)
        )
    )
    await assigner.route(uow, conversation)
    return conversation, True


def check_agent(principal: Principal) -> AgentPrincipal:
    if not isinstance(principal, AgentPrincipal):
        raise Forbidden("Only agents can do this.")
    return principal


def check_visitor(principal: Principal) -> VisitorPrincipal:
    if not isinstance(principal, VisitorPrincipal):
        raise Forbidden("Only the visitor can do this.")
    return principal


async def do_mark_read(
    uow: UnitOfWork, principal: Principal, conversation: Conversation, seq: int
) -> None:
    seq = min(seq, conversation.last_seq)
    if principal.kind == "visitor":
        if seq <= conversation.visitor_read_seq:
            return
        conversation.visitor_read_seq = seq
    else:
        if seq <= conversation.agent_read_seq:
            return
        conversation.agent_read_seq = seq
    uow.emit(ReadUpTo(ref=ref_of(conversation), reader_kind=principal.kind, seq=seq))


async def do_resolve(
    uow: UnitOfWork, agent: AgentPrincipal, conversation: Conversation, *, assigner: Assigner
) -> None:
    try:
        status = transition(conversation.status, "resolve", conversation_id=conversation.id)  # type: ignore[arg-type]  # checked on write
    except IllegalTransition as exc:
        raise Conflict(
            "This conversation is resolved already.", code="conversation_resolved"
        ) from exc
    conversation.status = status
    conversation.resolved_at = conversation.updated_at = utcnow()
    await uow.session.flush()
    await do_system_message(uow, conversation, "resolved")
    uow.emit(
        ConversationChanged(
            reason="resolved", conversation=await conversation_out(uow.session, conversation)
        )
    )
    await assigner.resolved(uow, conversation)


async def do_rate(
    uow: UnitOfWork, conversation: Conversation, score: int, comment: str | None
) -> None:
    if conversation.status != "resolved":
        raise Conflict("A conversation can be rated once it is resolved.", code="not_resolved")
    conversation.rating, conversation.rating_comment = score, comment
    await uow.session.flush()
    uow.emit(
        ConversationChanged(
            reason="rated", conversation=await conversation_out(uow.session, conversation)
        )
    )


async def do_request_transcript(uow: UnitOfWork, conversation: Conversation, email: str) -> None:
    uow.session.add(TranscriptRequest(conversation_id=conversation.id, email=email.strip().lower()))
