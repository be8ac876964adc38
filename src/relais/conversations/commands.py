"""The chat commands both entry points run (REST endpoints and WebSocket frames), each in one
transaction, so that a message posted over either path goes through exactly the same checks."""

from __future__ import annotations

from relais.contacts.models import Visitor
from relais.conversations.access import can_write
from relais.conversations.events import Typing
from relais.conversations.repository import (
    conversation_out,
    get_readable,
    open_conversation_of,
    peek_readable,
    ref_of,
)
from relais.conversations.schemas import ConversationOut, ConversationRef, MessageOut
from relais.conversations.service import (
    Assigner,
    check_visitor,
    do_mark_read,
    do_post_message,
    do_start_conversation,
)
from relais.core.db import Database, UnitOfWork
from relais.core.errors import Forbidden
from relais.identity.principals import Principal, VisitorPrincipal


async def post_message(
    db: Database,
    principal: Principal,
    conversation_id: str | None,
    *,
    client_id: str,
    body: str,
    attachment_ids: list[str],
    max_chars: int,
    team_id: str,
    assigner: Assigner,
) -> tuple[MessageOut, str]:
    """Post to a conversation; a visitor with no conversation id starts (or reuses) one.
    Returns the message (the first one, for a client id sent again) and the conversation's
    status after it."""

    async def work(uow: UnitOfWork) -> tuple[MessageOut, str]:
        if conversation_id is None:
            visitor = check_visitor(principal)
            conversation, _ = await do_start_conversation(
                uow, visitor, team_id=team_id, assigner=assigner
            )
        else:
            conversation = await peek_readable(uow, principal, conversation_id)
        message, _ = await do_post_message(
            uow,
            principal,
            conversation,
            client_id=client_id,
            body=body,
            attachment_ids=attachment_ids,
            max_chars=max_chars,
        )
        return message, conversation.status

    return await db.run_grouped(work)


async def start_conversation(
    db: Database,
    visitor: VisitorPrincipal,
    *,
    client_id: str,
    body: str | None,
    max_chars: int,
    team_id: str,
    assigner: Assigner,
    reply_to_email: str | None = None,
    claimed_name: str | None = None,
) -> ConversationOut:
    """The visitor's open conversation (created if none) with its first message, if any.

    ``reply_to_email`` and ``claimed_name`` come from the offline form: unverified, they stay on
    the visitor and the conversation and are never merged into a Contact."""

    async def work(uow: UnitOfWork) -> ConversationOut:
        if claimed_name is not None or reply_to_email is not None:
            row = await uow.session.get(Visitor, visitor.visitor_id)
            if row is not None:
                row.claimed_name, row.claimed_email = claimed_name, reply_to_email
        conversation, _ = await do_start_conversation(
            uow, visitor, team_id=team_id, assigner=assigner, reply_to_email=reply_to_email
        )
        if body:
            await do_post_message(
                uow,
                visitor,
                conversation,
                client_id=client_id,
                body=body,
                attachment_ids=[],
                max_chars=max_chars,
            )
        return await conversation_out(uow.session, conversation)

    return await db.run(work)


async def mark_read(db: Database, principal: Principal, conversation_id: str, seq: int) -> None:
    async with db.transaction() as uow:
        conversation = await get_readable(uow.session, principal, conversation_id)
        await do_mark_read(uow, principal, conversation, seq)


async def typing_event(
    db: Database, principal: Principal, conversation_id: str, typing: bool, author_name: str | None
) -> Typing:
    """Typing is not stored: check access, then the caller publishes the event directly. Only
    who may post in the conversation is shown typing in it."""
    async with db.transaction(write=False) as uow:
        conversation = await peek_readable(uow, principal, conversation_id)
    if not can_write(principal, ref_of(conversation)):
        raise Forbidden(
            "Only the agent who holds this conversation types in it.", code="not_your_conversation"
        )
    return Typing(
        ref=ref_of(conversation), author_kind=principal.kind, author_name=author_name, typing=typing
    )


async def open_ref_of(db: Database, visitor: VisitorPrincipal) -> ConversationRef | None:
    async with db.transaction(write=False) as uow:
        conversation = await open_conversation_of(uow.session, visitor.visitor_id)
        return ref_of(conversation) if conversation else None
