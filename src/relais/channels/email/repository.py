"""Queries of the e-mail channel: threads by Message-ID and number, senders' contacts, mailboxes,
and the ACD's live figures an acknowledgement quotes."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import String, Table, func, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.ext.asyncio import AsyncSession

from relais.channels.email.models import InboundMail, Mailbox, MailThread, OutboundMail
from relais.contacts.models import Contact
from relais.conversations.models import Conversation
from relais.identity.models import Agent, AgentTeam
from relais.routing.models import Queue, Task
from relais.routing.service import DEFAULT_CAPACITY


@dataclass(frozen=True, slots=True)
class MailboxRef:
    """A mailbox as the intake paths pass it around (no ORM object across transactions)."""

    id: str
    name: str
    address: str
    queue_id: str

    @classmethod
    def of(cls, row: Mailbox) -> MailboxRef:
        return cls(id=row.id, name=row.name, address=row.address, queue_id=row.queue_id)


async def conversation_by_message_ids(session: AsyncSession, ids: Sequence[str]) -> str | None:
    """The conversation of the first id in ``ids`` that we received or sent, or None."""
    if not ids:
        return None
    found: dict[str, str] = {}
    for table in (InboundMail, OutboundMail):
        rows = await session.execute(
            select(table.message_id, table.conversation_id).where(
                table.message_id.in_(list(ids)), table.conversation_id.is_not(None)
            )
        )
        for message_id, conversation_id in rows:
            if conversation_id is not None:
                found.setdefault(message_id, conversation_id)
    return next((found[i] for i in ids if i in found), None)


async def thread_of(session: AsyncSession, conversation_id: str) -> MailThread | None:
    return await session.scalar(
        select(MailThread).where(MailThread.conversation_id == conversation_id)
    )


async def thread_by_number(session: AsyncSession, number: int) -> MailThread | None:
    return await session.get(MailThread, number)


async def known_addresses(
    session: AsyncSession, thread: MailThread, contact_id: str | None
) -> set[str]:
    """Addresses that may continue a thread by its ``[#n]`` alone: its customer's."""
    known = {thread.customer_address.lower()}
    if contact_id is not None:
        contact = await session.get(Contact, contact_id)
        if contact is not None:
            known |= {e.lower() for e in contact.emails or []}
    return known


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def contact_with_email(session: AsyncSession, address: str) -> Contact | None:
    """A Contact whose verified e-mails include ``address`` (set by the site's signed identity):
    the same person as in their chats. The JSON list is searched as text, on both databases."""
    pattern = f'%"{_like_escape(address)}"%'
    return await session.scalar(
        select(Contact)
        .where(sql_cast(Contact.emails, String).like(pattern, escape="\\"))
        .order_by(Contact.created_at)
        .limit(1)
    )


async def acknowledgements_since(session: AsyncSession, recipient: str, since: datetime) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(OutboundMail)
        .where(
            OutboundMail.recipient == recipient,
            OutboundMail.kind == "acknowledgement",
            OutboundMail.created_at >= since,
        )
    )
    return int(count or 0)


@dataclass(frozen=True, slots=True)
class QueueFigures:
    waiting: int
    agents: int  # serving the queue and not offline
    per_agent: int  # e-mails an agent holds at once (the default capacity)
    aht_s: float | None  # recent handling time of the queue's tasks
    asa_s: float | None  # today's average wait before an answer


async def queue_figures(session: AsyncSession, queue: Queue, now: datetime) -> QueueFigures:
    """The figures the engine estimates waits from, read from the store: any process has them."""
    tasks = cast(Table, Task.__table__)
    waiting = await session.scalar(
        select(func.count())
        .select_from(tasks)
        .where(tasks.c.queue_id == queue.id, tasks.c.state.in_(("queued", "reserved")))
    )
    agents = 0
    if queue.team_ids:
        agents = int(
            await session.scalar(
                select(func.count(func.distinct(Agent.id)))
                .join(AgentTeam, AgentTeam.agent_id == Agent.id)
                .where(
                    AgentTeam.team_id.in_(list(queue.team_ids)),
                    Agent.active,
                    Agent.presence != "offline",
                )
            )
            or 0
        )
    recent = await session.execute(
        select(Task.assigned_at, Task.ended_at, Task.queued_at)
        .where(
            Task.queue_id == queue.id,
            Task.state == "completed",
            Task.ended_at >= now - timedelta(days=1),
            Task.assigned_at.is_not(None),
        )
        .order_by(Task.ended_at.desc())
        .limit(200)
    )
    handled, waits = [], []
    for assigned_at, ended_at, queued_at in recent:
        if assigned_at is None or ended_at is None:
            continue
        handled.append((ended_at - assigned_at).total_seconds())
        if queued_at is not None:
            waits.append((assigned_at - queued_at).total_seconds())
    return QueueFigures(
        waiting=int(waiting or 0),
        agents=agents,
        per_agent=DEFAULT_CAPACITY["email"],
        aht_s=sum(handled) / len(handled) if handled else None,
        asa_s=sum(waits) / len(waits) if waits else None,
    )


class FiguresCache:
    """``queue_figures`` per queue, kept ``ttl_s`` seconds. An acknowledgement quotes an
    estimate ("in about 2 hours"): mail arriving in a burst shares one reading of the figures
    instead of three queries each inside the intake's transaction."""

    def __init__(self, ttl_s: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.clock = clock
        self._kept: dict[str, tuple[float, QueueFigures]] = {}

    async def get(self, session: AsyncSession, queue: Queue, now: datetime) -> QueueFigures:
        kept = self._kept.get(queue.id)
        if kept is not None and self.clock() - kept[0] < self.ttl_s:
            return kept[1]
        figures = await queue_figures(session, queue, now)
        self._kept[queue.id] = (self.clock(), figures)
        return figures


async def mailbox_by_address(session: AsyncSession, address: str) -> Mailbox | None:
    return await session.scalar(select(Mailbox).where(func.lower(Mailbox.address) == address))


async def conversation(session: AsyncSession, conversation_id: str) -> Conversation | None:
    return await session.get(Conversation, conversation_id)
