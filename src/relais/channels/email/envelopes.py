"""What the desk shows of an e-mail conversation besides its messages: the thread's number and
the subject an answer goes out with, and for each message its envelope (from, to, date, subject)
and, for an agent's answer, where its mail stands in the outbox (queued, sent, failed, bounced).

Read-only and additive: the conversation's messages (and their events) stay the same for every
channel; the desk asks for this once per e-mail conversation and again when it changes
(docs/api.md, "E-mail conversations").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from relais.channels.email.models import InboundMail, Mailbox, MailThread, OutboundMail
from relais.channels.email.threading import format_reference, reply_subject
from relais.conversations.models import Message

MailState = Literal["received", "queued", "sent", "failed", "bounced"]
_OUTBOX_STATES: dict[str, MailState] = {
    "queued": "queued",
    "sent": "sent",
    "failed": "failed",
    "bounced": "bounced",
}


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EnvelopeOut(_Out):
    message_id: str  # the conversation message (Message.id) this envelope belongs to
    seq: int
    direction: Literal["in", "out"]
    from_name: str | None
    from_address: str | None
    to: list[str]
    cc: list[str]
    subject: str
    date: datetime | None  # in: the Date header; out: when the relay took it
    state: MailState
    error: str | None  # failed or bounced: the relay's or the report's words


class MailThreadOut(_Out):
    conversation_id: str
    number: int
    reference: str  # "[#n]", as every subject we send carries it
    subject: str
    reply_subject: str  # the subject of the next answer
    reply_to_name: str | None
    reply_to: str  # the address answers go to
    mailbox_address: str | None  # the address answers come from
    envelopes: list[EnvelopeOut]


@dataclass(frozen=True, slots=True)
class _Row:
    """A message of the conversation: who wrote it and when."""

    id: str
    seq: int
    author_kind: str


def outbox_state(state: str) -> MailState:
    """An outbound mail's state as shown; an unknown one reads as still on its way."""
    return _OUTBOX_STATES.get(state, "queued")


def envelopes_of(
    thread: MailThread,
    mailbox_address: str | None,
    messages: Sequence[_Row],
    inbound: dict[str, InboundMail],
    outbound: dict[str, OutboundMail],
) -> list[EnvelopeOut]:
    """One envelope per message that is mail, in order. Pure over the rows read.

    An agent's message past ``sent_seq`` has no outbound row yet: the sender turns it into
    mail when a process sends (architecture.md, "Outbox"); until then it is queued."""
    out: list[EnvelopeOut] = []
    for m in messages:
        received = inbound.get(m.id)
        sent = outbound.get(m.id)
        if received is not None:
            out.append(
                EnvelopeOut(
                    message_id=m.id,
                    seq=m.seq,
                    direction="in",
                    from_name=received.from_name,
                    from_address=received.from_address,
                    to=list(received.to_addresses or []),
                    cc=list(received.cc_addresses or []),
                    subject=received.subject,
                    date=received.sent_at or received.received_at,
                    state="received",
                    error=None,
                )
            )
        elif sent is not None:
            state = outbox_state(sent.state)
            out.append(
                EnvelopeOut(
                    message_id=m.id,
                    seq=m.seq,
                    direction="out",
                    from_name=None,
                    from_address=sent.sender,
                    to=list(sent.recipients or [sent.recipient]),
                    cc=[],
                    subject=sent.subject,
                    date=sent.sent_at,
                    state=state,
                    error=sent.last_error if state in ("failed", "bounced") else None,
                )
            )
        elif m.author_kind == "agent" and m.seq > thread.sent_seq:
            out.append(
                EnvelopeOut(
                    message_id=m.id,
                    seq=m.seq,
                    direction="out",
                    from_name=None,
                    from_address=mailbox_address,
                    to=[thread.customer_address],
                    cc=[],
                    subject=reply_subject(thread.subject, thread.number),
                    date=None,
                    state="queued",
                    error=None,
                )
            )
    return out


async def mail_thread_out(session: AsyncSession, conversation_id: str) -> MailThreadOut | None:
    """The conversation's mail thread and envelopes, or None when it never spoke e-mail."""
    thread = await session.scalar(
        select(MailThread).where(MailThread.conversation_id == conversation_id)
    )
    if thread is None:
        return None
    mailbox = await session.get(Mailbox, thread.mailbox_id) if thread.mailbox_id else None
    rows = (
        await session.execute(
            select(Message.id, Message.seq, Message.author_kind)
            .where(Message.conversation_id == conversation_id)
            .order_by(Message.seq)
        )
    ).all()
    inbound = {
        r.conversation_message_id: r
        for r in await session.scalars(
            select(InboundMail).where(
                InboundMail.conversation_id == conversation_id,
                InboundMail.conversation_message_id.is_not(None),
            )
        )
        if r.conversation_message_id is not None
    }
    outbound = {
        r.conversation_message_id: r
        for r in await session.scalars(
            select(OutboundMail).where(
                OutboundMail.conversation_id == conversation_id,
                OutboundMail.conversation_message_id.is_not(None),
            )
        )
        if r.conversation_message_id is not None
    }
    address = mailbox.address if mailbox else None
    return MailThreadOut(
        conversation_id=conversation_id,
        number=thread.number,
        reference=format_reference(thread.number),
        subject=thread.subject,
        reply_subject=reply_subject(thread.subject, thread.number),
        reply_to_name=thread.customer_name,
        reply_to=thread.customer_address,
        mailbox_address=address,
        envelopes=envelopes_of(
            thread,
            address,
            [_Row(id=r.id, seq=r.seq, author_kind=r.author_kind) for r in rows],
            inbound,
            outbound,
        ),
    )
