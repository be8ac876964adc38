"""REST endpoints of conversations, for visitors and agents alike (one access check)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import FileResponse
from sqlalchemy import select

from relais.conversations import commands
from relais.conversations.attachments import safe_filename
from relais.conversations.models import Attachment
from relais.conversations.repository import (
    attachment_out,
    conversation_out,
    conversations_out,
    get_readable,
    list_for,
    messages_after,
)
from relais.conversations.schemas import (
    AttachmentOut,
    ConversationOut,
    MessageOut,
    Rating,
    ReadReceipt,
    SendMessage,
    StartConversation,
    TranscriptAsk,
)
from relais.conversations.service import (
    do_rate,
    do_request_transcript,
    do_resolve,
)
from relais.core.errors import NotFound
from relais.deps import CurrentAgent, CurrentPrincipal, CurrentVisitor, RuntimeDep

router = APIRouter(prefix="/conversations", tags=["conversations"])
attachments_router = APIRouter(prefix="/attachments", tags=["attachments"])


@router.get("")
async def list_conversations(
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    status: Literal["open", "pending", "resolved", "active"] | None = None,
    mine: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ConversationOut]:
    """The conversations the caller may read, most recently active first.

    `status=active` means not resolved; `mine=true` keeps an agent's own."""
    async with runtime.db.transaction(write=False) as uow:
        rows = await list_for(uow.session, principal, status=status, mine=mine, limit=limit)
        return await conversations_out(uow.session, rows)


@router.post("", status_code=201)
async def start_conversation(
    body: StartConversation, visitor: CurrentVisitor, runtime: RuntimeDep
) -> ConversationOut:
    """Start a conversation; a visitor who has one that is not resolved gets that one back."""
    return await commands.start_conversation(
        runtime.db,
        visitor,
        client_id=body.client_id,
        body=body.body,
        max_chars=runtime.settings.chat.max_message_chars,
        team_id=runtime.default_team_id,
        assigner=runtime.assigner,
    )


@router.get("/{conversation_id}")
async def get_conversation(
    conversation_id: str, principal: CurrentPrincipal, runtime: RuntimeDep
) -> ConversationOut:
    async with runtime.db.transaction(write=False) as uow:
        conversation = await get_readable(uow.session, principal, conversation_id)
        return await conversation_out(uow.session, conversation)


@router.get("/{conversation_id}/messages")
async def list_messages(
    conversation_id: str,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> list[MessageOut]:
    """Messages with a sequence number above `after`, in order."""
    async with runtime.db.transaction(write=False) as uow:
        await get_readable(uow.session, principal, conversation_id)
        return await messages_after(uow.session, conversation_id, after, limit)


@router.post("/{conversation_id}/messages", status_code=201)
async def post_message(
    conversation_id: str, body: SendMessage, principal: CurrentPrincipal, runtime: RuntimeDep
) -> MessageOut:
    """Post a message. The same `client_id` again returns the first message, never a second."""
    message, _ = await commands.post_message(
        runtime.db,
        principal,
        conversation_id,
        client_id=body.client_id,
        body=body.body,
        attachment_ids=body.attachment_ids,
        max_chars=runtime.settings.chat.max_message_chars,
        team_id=runtime.default_team_id,
        assigner=runtime.assigner,
    )
    return message


@router.post("/{conversation_id}/read", status_code=204)
async def mark_read(
    conversation_id: str, body: ReadReceipt, principal: CurrentPrincipal, runtime: RuntimeDep
) -> None:
    await commands.mark_read(runtime.db, principal, conversation_id, body.seq)


@router.post("/{conversation_id}/resolve")
async def resolve(
    conversation_id: str, agent: CurrentAgent, runtime: RuntimeDep
) -> ConversationOut:
    async with runtime.db.transaction() as uow:
        conversation = await get_readable(uow.session, agent, conversation_id)
        await do_resolve(uow, agent, conversation, assigner=runtime.assigner)
        return await conversation_out(uow.session, conversation)


@router.post("/{conversation_id}/rating")
async def rate(
    conversation_id: str, body: Rating, visitor: CurrentVisitor, runtime: RuntimeDep
) -> ConversationOut:
    async with runtime.db.transaction() as uow:
        conversation = await get_readable(uow.session, visitor, conversation_id)
        await do_rate(uow, conversation, body.score, body.comment)
        return await conversation_out(uow.session, conversation)


@router.post("/{conversation_id}/transcript", status_code=202)
async def request_transcript(
    conversation_id: str, body: TranscriptAsk, visitor: CurrentVisitor, runtime: RuntimeDep
) -> dict[str, str]:
    """Ask for the transcript by e-mail; it is stored now and sent by the e-mail channel."""
    async with runtime.db.transaction() as uow:
        conversation = await get_readable(uow.session, visitor, conversation_id)
        await do_request_transcript(uow, conversation, body.email)
    return {"status": "requested"}


@attachments_router.post("", status_code=201)
async def upload_attachment(
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    conversation_id: Annotated[str, Form(max_length=32)],
    file: Annotated[UploadFile, File()],
) -> AttachmentOut:
    """Upload a file to a conversation; send it with a message's `attachment_ids`."""
    store = runtime.attachments
    async with runtime.db.transaction(write=False) as uow:
        await get_readable(uow.session, principal, conversation_id)
    data = await file.read(store.max_bytes + 1)
    content_type = store.check(data)
    key = await store.save(data)
    attachment = Attachment(
        conversation_id=conversation_id,
        uploader_kind=principal.kind,
        uploader_id=principal.id,
        filename=safe_filename(file.filename),
        content_type=content_type,
        size=len(data),
        storage_key=key,
    )
    async with runtime.db.transaction() as uow:
        uow.session.add(attachment)
    return attachment_out(attachment)


@attachments_router.get("/{attachment_id}")
async def download_attachment(
    attachment_id: str, principal: CurrentPrincipal, runtime: RuntimeDep
) -> FileResponse:
    async with runtime.db.transaction(write=False) as uow:
        attachment = await uow.session.scalar(
            select(Attachment).where(Attachment.id == attachment_id)
        )
        if attachment is None:
            raise NotFound("No such file.")
        await get_readable(uow.session, principal, attachment.conversation_id)
    return FileResponse(
        runtime.attachments.path(attachment.storage_key),
        media_type=attachment.content_type,
        filename=attachment.filename,
        content_disposition_type="attachment",
        headers={"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"},
    )
