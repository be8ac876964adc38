"""One received mail into the store: parse, classify, thread, contact, message, task, answer.

Every intake path (IMAP, the SMTP/LMTP listener, ``relais mail import``) calls ``ingest``. The
decisions are domain.py's; this module moves data:

1. ``parse_message`` (never raises) and ``classify_automatic``;
2. a Message-ID already stored is a duplicate: nothing is written but the IMAP cursor;
3. the raw source and the attachments are written to the attachment store;
4. one transaction: the ``InboundMail`` row, then by disposition
   - bounce: the outbound mail it reports on is marked ``bounced``; no conversation;
   - other automatic mail: stored, neither routed nor acknowledged;
   - a person's mail: threaded (In-Reply-To/References, then a trusted ``[#n]``) or a new
     conversation of channel ``email``; the sender matched to a Contact; a message with the
     HTML made safe; a task of the mailbox's queue (new conversation, or one with no live
     task), the admin's triage rules (triage.py) choosing the queue, skills, priority and tags
     of a new conversation or calling it spam; an acknowledgement in the outbox when
     domain.acknowledgement says so;
   and the IMAP cursor, fenced by the mailbox's lease.

A mail that fails past the parser (a bug, a row the database refuses) is stored as
``unreadable`` with its raw source and the error, and the cursor moves on: it never blocks the
mail behind it. Only the store being unreachable stops the intake, which then resumes from the
cursor.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from relais.channels.email import domain, repository
from relais.channels.email.ack import AckTemplates, expected_phrase, render
from relais.channels.email.automatic import AutoVerdict, classify_automatic
from relais.channels.email.compose import references_for
from relais.channels.email.display import for_conversation
from relais.channels.email.dsn import read_delivery_report
from relais.channels.email.intent_store import IntentStore
from relais.channels.email.language import detect_language
from relais.channels.email.models import InboundMail, MailAddress, Mailbox, MailThread, OutboundMail
from relais.channels.email.outbox import do_enqueue
from relais.channels.email.parse import Address, ParsedMail, parse_message
from relais.channels.email.placement import Placement, due_of, place, sla_attributes, sla_row
from relais.channels.email.repository import FiguresCache, MailboxRef
from relais.channels.email.rule_store import RuleStore
from relais.channels.email.sla import SlaPolicy
from relais.channels.email.threading import find_reference, format_reference, normalise_subject
from relais.contacts.models import Contact
from relais.conversations.attachments import AttachmentStore, sniff
from relais.conversations.events import ConversationChanged
from relais.conversations.models import Attachment, Conversation
from relais.conversations.repository import conversation_out
from relais.conversations.service import do_channel_message
from relais.core.clock import utcnow
from relais.core.db import Database, UnitOfWork
from relais.core.ids import new_id
from relais.routing.hours import BusinessHours
from relais.routing.lease import LeaseLost
from relais.routing.models import Queue
from relais.routing.service import do_create_task, live_task_of_conversation

log = logging.getLogger(__name__)

# Parsing a large mail takes milliseconds to seconds: off the event loop past this size.
_PARSE_IN_THREAD = 256 * 1024
# Stored but not offered as attachments (inline type by content, any other as bytes).
_SHOWN_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"}
UTC_ZONE = ZoneInfo("UTC")


@dataclass(frozen=True, slots=True)
class IntakeConfig:
    store: AttachmentStore
    domain: str
    default_team_id: str
    own_addresses: frozenset[str] = frozenset()
    acknowledge: bool = True
    ack_per_hour: int = 3
    ack_templates: AckTemplates = field(default_factory=AckTemplates)
    max_message_bytes: int = 40 * 1024 * 1024
    max_attachment_bytes: int = 25 * 1024 * 1024
    # The admin's triage rules (triage.py) for new conversations, as stored (rule_store.py).
    rules: RuleStore = field(default_factory=RuleStore)
    # The intent model learnt from resolved mail (intent_store.py), for what no rule decided.
    intent: IntentStore = field(default_factory=IntentStore)
    sla: SlaPolicy = field(default_factory=SlaPolicy)  # due times of e-mail tasks (sla.py)
    # The ACD's figures an acknowledgement's expected time comes from, read once per 5 s.
    figures: FiguresCache = field(default_factory=FiguresCache)


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where an IMAP fetch stands: written in the transaction that stores the mail."""

    mailbox_id: str
    uidvalidity: int
    uid: int
    fence: Callable[[AsyncSession], Awaitable[None]] | None = None


@dataclass(frozen=True, slots=True)
class Stored:
    message_id: str
    state: str  # routed, threaded, automatic, bounce, spam, unreadable, duplicate
    inbound_id: str | None = None
    conversation_id: str | None = None
    acknowledged: bool = False


@dataclass(frozen=True, slots=True)
class _File:
    id: str
    key: str
    filename: str
    content_type: str
    size: int
    content_id: str | None


async def ingest(
    db: Database,
    config: IntakeConfig,
    raw: bytes,
    *,
    mailbox: MailboxRef,
    source: str,
    cursor: Cursor | None = None,
) -> Stored:
    """Store one received mail (see the module's docstring). Raises only when the store is
    unreachable or the mailbox's lease is lost: then nothing was written."""
    if len(raw) > _PARSE_IN_THREAD:
        mail = await asyncio.to_thread(parse_message, raw, max_bytes=config.max_message_bytes)
    else:
        mail = parse_message(raw, max_bytes=config.max_message_bytes)
    own = config.own_addresses | {mailbox.address.lower()}
    verdict = classify_automatic(mail, own)

    async with db.transaction(write=False) as uow:
        known = await _stored(uow.session, mail.message_id)
    if known is not None:
        if cursor is not None:
            async with db.transaction() as uow:
                await _advance(uow.session, cursor)
        return known

    raw_key = await config.store.save(raw)
    files: list[_File] = []
    kind = domain.disposition(verdict)
    try:
        if kind == "person":
            files = await _save_attachments(config, mail)
        return await db.run(
            lambda uow: _store(uow, config, mail, verdict, raw_key, files, mailbox, source, cursor)
        )
    except (OperationalError, InterfaceError, LeaseLost, OSError):
        raise
    except Exception as exc:  # a bug or a refused row: keep the mail, say why, go on
        if isinstance(exc, DBAPIError) and exc.connection_invalidated:
            raise
        error = exc
    log.exception("mail %s stored as unreadable", mail.message_id, exc_info=error)
    return await db.run(
        lambda uow: _store_unreadable(uow, mail, raw_key, mailbox, source, cursor, repr(error))
    )


async def _stored(session: AsyncSession, message_id: str) -> Stored | None:
    row = (
        await session.execute(
            select(InboundMail.id, InboundMail.conversation_id).where(
                InboundMail.message_id == message_id
            )
        )
    ).first()
    if row is None:
        return None
    return Stored(message_id, "duplicate", inbound_id=row[0], conversation_id=row[1])


async def _advance(session: AsyncSession, cursor: Cursor) -> None:
    if cursor.fence is not None:
        await cursor.fence(session)
    await session.execute(
        update(Mailbox)
        .where(Mailbox.id == cursor.mailbox_id)
        .values(imap_uidvalidity=cursor.uidvalidity, imap_last_uid=cursor.uid, updated_at=utcnow())
    )


async def _save_attachments(config: IntakeConfig, mail: ParsedMail) -> list[_File]:
    files = []
    for attachment in mail.attachments:
        if attachment.size > config.max_attachment_bytes or attachment.size == 0:
            continue  # still in the raw source; a defect would be noise here
        data = attachment.data()
        sniffed = sniff(data[:4096])
        # Served as a download with nosniff and a sandbox CSP, whatever it is; a type is only
        # claimed when the content confirms it.
        content_type = sniffed if sniffed in _SHOWN_TYPES else "application/octet-stream"
        if sniffed == "text/plain" and attachment.content_type == "text/plain":
            content_type = "text/plain"
        key = await config.store.save(data)
        files.append(
            _File(
                id=new_id(),
                key=key,
                filename=attachment.filename or _default_name(attachment.content_type),
                content_type=content_type,
                size=len(data),
                content_id=attachment.content_id,
            )
        )
    return files


def _default_name(content_type: str) -> str:
    return {"message/rfc822": "message.eml", "text/calendar": "invite.ics"}.get(
        content_type, "attachment"
    )


def _row(
    mail: ParsedMail, raw_key: str, mailbox: MailboxRef, source: str, cursor: Cursor | None
) -> InboundMail:
    return InboundMail(
        id=new_id(),
        message_id=mail.message_id,
        message_id_synthetic=mail.message_id_synthetic,
        mailbox_id=mailbox.id,
        source=source,
        imap_uid=cursor.uid if cursor else None,
        raw_key=raw_key,
        raw_size=len(mail.raw),
        raw_sha256=hashlib.sha256(mail.raw).hexdigest(),
        from_address=mail.from_.address[:320] if mail.from_ else None,
        from_name=(mail.from_.name[:200] or None) if mail.from_ else None,
        to_addresses=[a.address[:320] for a in mail.to[:100]],
        cc_addresses=[a.address[:320] for a in mail.cc[:100]],
        subject=mail.subject[:1000],
        sent_at=mail.date,
        in_reply_to=mail.in_reply_to,
        references=list(mail.references),
        defects=list(mail.defects),
        state="stored",
        received_at=utcnow(),
    )


async def _store(
    uow: UnitOfWork,
    config: IntakeConfig,
    mail: ParsedMail,
    verdict: AutoVerdict,
    raw_key: str,
    files: list[_File],
    mailbox: MailboxRef,
    source: str,
    cursor: Cursor | None,
) -> Stored:
    session = uow.session
    known = await _stored(session, mail.message_id)  # stored meanwhile by another path
    if known is not None:
        if cursor is not None:
            await _advance(session, cursor)
        return known
    row = _row(mail, raw_key, mailbox, source, cursor)
    row.automatic_kind, row.automatic_reason = verdict.kind, verdict.reason[:200] or None
    session.add(row)
    kind = domain.disposition(verdict)
    acknowledged = False
    if kind == "bounce":
        row.state = "bounce"
        row.conversation_id = await _mark_bounced(session, mail)
    elif kind == "automatic":
        row.state = "automatic"
        row.conversation_id = await repository.conversation_by_message_ids(
            session, _thread_keys(mail)
        )
    else:
        acknowledged = await _person(uow, config, mail, verdict, row, files, mailbox)
    if cursor is not None:
        await _advance(session, cursor)
    await session.flush()
    return Stored(
        mail.message_id,
        row.state,
        inbound_id=row.id,
        conversation_id=row.conversation_id,
        acknowledged=acknowledged,
    )


async def _store_unreadable(
    uow: UnitOfWork,
    mail: ParsedMail,
    raw_key: str,
    mailbox: MailboxRef,
    source: str,
    cursor: Cursor | None,
    error: str,
) -> Stored:
    known = await _stored(uow.session, mail.message_id)
    if known is None:
        row = _row(mail, raw_key, mailbox, source, cursor)
        row.state, row.error = "unreadable", error[:2000]
        uow.session.add(row)
    if cursor is not None:
        await _advance(uow.session, cursor)
    await uow.session.flush()
    return known or Stored(mail.message_id, "unreadable", inbound_id=row.id)


def _thread_keys(mail: ParsedMail) -> list[str]:
    from relais.channels.email.threading import thread_keys

    return list(thread_keys(mail))


async def _mark_bounced(session: AsyncSession, mail: ParsedMail) -> str | None:
    """The outbound mail a delivery report is about is marked bounced; its conversation kept."""
    report = read_delivery_report(mail)
    if not report.failed:
        return None
    candidates = [i for i in (report.original_message_id,) if i]
    if report.envelope_id:
        candidates.append(f"<{report.envelope_id.strip('<>')}>")
    if not candidates:
        return None
    outbound = await session.scalar(
        select(OutboundMail).where(OutboundMail.message_id.in_(candidates)).limit(1)
    )
    if outbound is None:
        return None
    outbound.state = "bounced"
    outbound.failed_at = utcnow()
    outbound.bounce = {
        "recipients": [
            {"address": r.address, "status": r.status, "diagnostic": (r.diagnostic or "")[:500]}
            for r in report.failed[:20]
        ]
    }
    outbound.last_error = f"bounced: {report.failed[0].status or ''} {report.failed[0].address}"
    return outbound.conversation_id


async def _find_conversation(
    session: AsyncSession, mail: ParsedMail
) -> tuple[Conversation | None, MailThread | None]:
    conversation_id = await repository.conversation_by_message_ids(session, _thread_keys(mail))
    if conversation_id is not None:
        conversation = await session.get(Conversation, conversation_id)
        thread = await repository.thread_of(session, conversation_id)
        return conversation, thread
    number = find_reference(mail.subject)
    if number is None or number > 2**31 - 1:
        return None, None
    thread = await repository.thread_by_number(session, number)
    if thread is None:
        return None, None
    conversation = await session.get(Conversation, thread.conversation_id)
    if conversation is None:
        return None, None
    sender = mail.from_.address if mail.from_ else None
    known = await repository.known_addresses(session, thread, conversation.contact_id)
    if not domain.reference_trusted(sender, known):
        log.info(
            "mail %s names [#%d] from an unknown sender: new conversation", mail.message_id, number
        )
        return None, None
    return conversation, thread


async def _contact_for(session: AsyncSession, sender: Address | None) -> Contact | None:
    if sender is None:
        return None
    address = sender.address[:320]
    known = await session.get(MailAddress, address)
    if known is not None:
        contact = await session.get(Contact, known.contact_id)
        if contact is not None:
            return contact
    contact = await repository.contact_with_email(session, address)
    if contact is None:
        contact = Contact(name=sender.name[:200] or None, emails=[address])
        session.add(contact)
        await session.flush()
    if known is None:
        # Two mails of a new sender stored at once: one insert wins, the other transaction
        # fails here and runs again (Database.run), finding this row.
        session.add(MailAddress(address=address, contact_id=contact.id))
        await session.flush()
    return contact


async def _person(
    uow: UnitOfWork,
    config: IntakeConfig,
    mail: ParsedMail,
    verdict: AutoVerdict,
    row: InboundMail,
    files: list[_File],
    mailbox: MailboxRef,
) -> bool:
    session = uow.session
    sender = domain.reply_address(mail)
    # Subject and body together: the subject alone is too short to tell (language.py).
    lang = detect_language(f"{mail.subject}\n{mail.text}", mail.headers.get("Content-Language"))
    row.language = lang
    conversation, thread = await _find_conversation(session, mail)
    if conversation is not None and conversation.status == "resolved":
        conversation, thread = None, None  # resolved is final: the answer opens a new one
    queue = await session.get(Queue, mailbox.queue_id)
    if queue is None:
        raise RuntimeError(f"mailbox {mailbox.name}: its queue is gone")
    new = conversation is None
    placed: Placement | None = None
    if conversation is None:
        contact = await _contact_for(session, mail.from_ or sender)
        placed = await place(
            session,
            rules=config.rules,
            intent=config.intent,
            mail=mail,
            language=lang,
            contact=contact,
            queue=queue,
            mailbox_address=mailbox.address,
        )
        if placed.spam:  # the admin's rules say spam: kept, never routed nor answered
            row.state = "spam"
            return False
        queue = placed.queue
        conversation = Conversation(
            channel="email",
            status="open",
            contact_id=contact.id if contact else None,
            team_id=queue.team_ids[0] if queue.team_ids else config.default_team_id,
            subject=normalise_subject(mail.subject)[:300] or None,
        )
        session.add(conversation)
        await session.flush()
        uow.emit(
            ConversationChanged(
                reason="created", conversation=await conversation_out(session, conversation)
            )
        )
    if thread is None:
        thread = MailThread(
            conversation_id=conversation.id,
            mailbox_id=mailbox.id,
            subject=normalise_subject(mail.subject)[:1000],
            customer_address=sender.address[:320] if sender else "",
            customer_name=(sender.name[:200] or None) if sender else None,
            language=config.ack_templates.pick(None, lang)[0],  # the language we answer in
            sent_seq=conversation.last_seq,
        )
        session.add(thread)
        await session.flush()
    attachments = [
        Attachment(
            id=f.id,
            conversation_id=conversation.id,
            uploader_kind="email",
            uploader_id=row.id,
            filename=f.filename[:255],
            content_type=f.content_type,
            size=f.size,
            storage_key=f.key,
        )
        for f in files
    ]
    session.add_all(attachments)
    urls = {f.content_id: f"/api/v1/attachments/{f.id}" for f in files if f.content_id}
    shown = for_conversation(mail, cid_url=urls.get, lang=lang)
    body = shown.body or ("" if attachments else (mail.subject or "(no text)"))
    name = (mail.from_.name or mail.from_.address) if mail.from_ else None
    message = await do_channel_message(
        uow,
        conversation,
        author_name=name[:200] if name else None,
        body=body,
        html=shown.html,
        attachments=attachments,
    )
    row.conversation_id, row.conversation_message_id = conversation.id, message.id
    row.state = "routed" if new else "threaded"
    attributes: dict[str, object] = {
        "subject": mail.subject[:300],
        "from": row.from_address,
        "language": lang,
        "mailbox": mailbox.name,
        "reference": format_reference(thread.number),
    }
    if new or await live_task_of_conversation(uow, conversation.id) is None:
        now, priority = utcnow(), placed.priority if placed else 0
        due = due_of(config.sla, queue, priority, now)
        attributes.update(placed.attributes if placed else {})
        attributes.update(sla_attributes(due))
        task = await do_create_task(
            uow,
            channel="email",
            queue=queue,
            conversation_id=conversation.id,
            contact_id=conversation.contact_id,
            attributes={
                **attributes,
                **(placed.attributes if placed else {}),
                **sla_attributes(due),
            },
            requirements=placed.skills if placed else None,
            priority=priority,
        )
        clock = sla_row(task, due, now)
        if clock is not None:
            session.add(clock)
    return await _acknowledge(uow, config, mail, verdict, row, thread, queue, mailbox, new)


async def _acknowledge(
    uow: UnitOfWork,
    config: IntakeConfig,
    mail: ParsedMail,
    verdict: AutoVerdict,
    row: InboundMail,
    thread: MailThread,
    queue: Queue,
    mailbox: MailboxRef,
    new: bool,
) -> bool:
    session = uow.session
    now = utcnow()
    recipient = thread.customer_address or None
    sent = 0
    if recipient and new and config.acknowledge:
        sent = await repository.acknowledgements_since(session, recipient, now - timedelta(hours=1))
    decision = domain.acknowledgement(
        enabled=config.acknowledge,
        new_conversation=new,
        verdict=verdict,
        recipient=recipient,
        own_addresses=config.own_addresses | {mailbox.address.lower()},
        sent_last_hour=sent,
        per_hour=config.ack_per_hour,
    )
    if not decision.send or recipient is None:
        return False
    figures = await config.figures.get(session, queue, now)
    hours = BusinessHours.model_validate(queue.hours) if queue.hours else None
    wait = domain.estimated_wait_s(
        waiting=max(figures.waiting - 1, 0),  # this mail's own task is among them
        agents=figures.agents,
        per_agent=figures.per_agent,
        aht_s=figures.aht_s,
        asa_s=figures.asa_s,
    )
    expected_at = domain.expected_answer_at(now, wait, hours)
    text = render(
        config.ack_templates,
        queue=queue.name,
        queue_name=queue.name,
        language=row.language or thread.language,
        number=thread.number,
        subject=thread.subject or mail.subject,
        name=thread.customer_name or "",
        expected=expected_phrase(
            now,
            expected_at,
            row.language or thread.language,
            zone=ZoneInfo(hours.timezone) if hours else UTC_ZONE,
            hours=hours,
        ),
    )
    await do_enqueue(
        uow,
        config.store,
        kind="acknowledgement",
        domain=config.domain,
        sender=Address(mailbox.name, mailbox.address),
        to=[Address(thread.customer_name or "", recipient)],
        subject=text.subject,
        text=text.text,
        html=text.html,
        mailbox_id=mailbox.id,
        in_reply_to=mail.message_id,
        references=references_for(mail.references, mail.message_id),
        conversation_id=thread.conversation_id,
        inbound_mail_id=row.id,
        automatic=True,
        language=text.language,
        now=now,
    )
    return True
