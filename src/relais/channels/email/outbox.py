"""Putting mail in the outbox: acknowledgements, agents' replies, chat transcripts.

Each is written in the transaction that decides it (the acknowledgement with the mail it
answers, the reply fed from the agent's stored message, the transcript from its request), so a
crash can delay a mail but never lose it. ``mail.sender`` sends what waits here.

Agents' replies are not pushed by the conversation code: the sender's process feeds the outbox
from the store (``do_feed_replies``: agent messages of e-mail conversations past the thread's
``sent_seq``), so replying by mail needs nothing from the desk but the usual message, and a
message stored while no process sends is mailed when one does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from relais.channels.email.compose import OutgoingFile, build_message, references_for
from relais.channels.email.domain import Language
from relais.channels.email.models import InboundMail, Mailbox, MailThread, OutboundMail
from relais.channels.email.parse import Address
from relais.channels.email.threading import format_reference, reply_subject
from relais.channels.email.transcript import transcript
from relais.contacts.models import Visitor
from relais.conversations.attachments import AttachmentStore
from relais.conversations.models import Attachment, Conversation, Message, TranscriptRequest
from relais.core.clock import utcnow
from relais.core.db import UnitOfWork
from relais.core.ids import new_id

_WHO = {"agent": "Agent", "visitor": "You"}


def new_message_id(domain: str) -> str:
    return f"<{new_id()}@{domain}>"


async def do_enqueue(
    uow: UnitOfWork,
    store: AttachmentStore,
    *,
    kind: str,
    domain: str,
    sender: Address,
    to: Sequence[Address],
    subject: str,
    text: str,
    html: str | None = None,
    mailbox_id: str | None = None,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    conversation_id: str | None = None,
    conversation_message_id: str | None = None,
    transcript_request_id: str | None = None,
    inbound_mail_id: str | None = None,
    automatic: bool = False,
    language: str | None = None,
    files: Sequence[OutgoingFile] = (),
    now: datetime | None = None,
) -> OutboundMail:
    now = now or utcnow()
    message_id = new_message_id(domain)
    raw = build_message(
        message_id=message_id,
        sender=sender,
        to=to,
        subject=subject,
        text=text,
        html=html,
        date=now,
        in_reply_to=in_reply_to,
        references=references,
        automatic=automatic,
        language=language,
        files=files,
    )
    key = await store.save(raw)
    row = OutboundMail(
        message_id=message_id,
        kind=kind,
        mailbox_id=mailbox_id,
        conversation_id=conversation_id,
        conversation_message_id=conversation_message_id,
        transcript_request_id=transcript_request_id,
        inbound_mail_id=inbound_mail_id,
        sender=sender.address,
        recipient=to[0].address,
        recipients=[a.address for a in to],
        subject=subject[:1000],
        in_reply_to=in_reply_to,
        references=list(references),
        raw_key=key,
        raw_size=len(raw),
        state="queued",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    uow.session.add(row)
    await uow.session.flush()
    return row


async def _last_inbound(uow: UnitOfWork, conversation_id: str) -> InboundMail | None:
    return await uow.session.scalar(
        select(InboundMail)
        .where(InboundMail.conversation_id == conversation_id, InboundMail.state != "bounce")
        .order_by(InboundMail.received_at.desc())
        .limit(1)
    )


async def _files_of(uow: UnitOfWork, store: AttachmentStore, message_id: str) -> list[OutgoingFile]:
    rows = await uow.session.scalars(select(Attachment).where(Attachment.message_id == message_id))
    files = []
    for row in rows:
        data = await asyncio.to_thread(store.path(row.storage_key).read_bytes)
        files.append(OutgoingFile(row.filename, row.content_type, data))
    return files


async def do_feed_replies(
    uow: UnitOfWork, store: AttachmentStore, *, domain: str, limit: int = 50
) -> int:
    """Agents' messages in e-mail conversations not yet mailed become outbound mail."""
    rows = (
        await uow.session.execute(
            select(Message, MailThread)
            .join(MailThread, MailThread.conversation_id == Message.conversation_id)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(
                Conversation.channel == "email",
                Message.author_kind == "agent",
                Message.seq > MailThread.sent_seq,
            )
            .order_by(Message.created_at)
            .limit(limit)
        )
    ).all()
    mailboxes: dict[str | None, Mailbox | None] = {}
    for message, thread in rows:
        if thread.mailbox_id not in mailboxes:
            mailboxes[thread.mailbox_id] = (
                await uow.session.get(Mailbox, thread.mailbox_id) if thread.mailbox_id else None
            )
        mailbox = mailboxes[thread.mailbox_id]
        parent = await _last_inbound(uow, thread.conversation_id)
        sender = Address(mailbox.name if mailbox else "", mailbox.address if mailbox else "")
        if not sender.address:
            sender = Address("", f"noreply@{domain}")
        await do_enqueue(
            uow,
            store,
            kind="reply",
            domain=domain,
            sender=sender,
            to=[Address(thread.customer_name or "", thread.customer_address)],
            subject=reply_subject(thread.subject, thread.number),
            text=message.body,
            html=message.html,
            mailbox_id=thread.mailbox_id,
            in_reply_to=parent.message_id if parent else None,
            references=references_for(
                parent.references if parent else [], parent.message_id if parent else None
            ),
            conversation_id=thread.conversation_id,
            conversation_message_id=message.id,
            inbound_mail_id=parent.id if parent else None,
            language=thread.language,
            files=await _files_of(uow, store, message.id),
        )
        thread.sent_seq = max(thread.sent_seq, message.seq)
    return len(rows)


async def do_feed_transcripts(
    uow: UnitOfWork,
    store: AttachmentStore,
    *,
    domain: str,
    sender: Address,
    mailbox_id: str | None,
    limit: int = 20,
) -> int:
    """Transcripts visitors asked for (conversations.TranscriptRequest) become outbound mail.
    The conversation gets a mail thread, so that an answer to the transcript finds it."""
    requests = (
        await uow.session.scalars(
            select(TranscriptRequest)
            .outerjoin(OutboundMail, OutboundMail.transcript_request_id == TranscriptRequest.id)
            .where(TranscriptRequest.sent_at.is_(None), OutboundMail.id.is_(None))
            .order_by(TranscriptRequest.requested_at)
            .limit(limit)
        )
    ).all()
    for request in requests:
        conversation = await uow.session.get(Conversation, request.conversation_id)
        if conversation is None:
            continue
        lang: Language = "en"
        if conversation.visitor_id:
            visitor = await uow.session.get(Visitor, conversation.visitor_id)
            lang = "fr" if visitor is not None and visitor.lang == "fr" else "en"
        thread = await uow.session.scalar(
            select(MailThread).where(MailThread.conversation_id == conversation.id)
        )
        if thread is None:
            thread = MailThread(
                conversation_id=conversation.id,
                mailbox_id=mailbox_id,
                subject=conversation.subject or "",
                customer_address=request.email,
                language=lang,
                sent_seq=conversation.last_seq,
            )
            uow.session.add(thread)
            await uow.session.flush()
        messages = await uow.session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation.id, Message.author_kind != "system")
            .order_by(Message.seq)
        )
        lines = [
            (
                m.created_at,
                m.author_name or ("Agent" if m.author_kind == "agent" else "You"),
                m.body,
            )
            for m in messages
        ]
        text = transcript(lang, format_reference(thread.number), conversation.created_at, lines)
        await do_enqueue(
            uow,
            store,
            kind="transcript",
            domain=domain,
            sender=sender,
            to=[Address("", request.email)],
            subject=text.subject,
            text=text.body,
            mailbox_id=mailbox_id,
            conversation_id=conversation.id,
            transcript_request_id=request.id,
            automatic=True,
            language=lang,
        )
    return len(requests)
