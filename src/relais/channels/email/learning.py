"""The intent model learns from e-mail conversations once they are resolved: once each.

Labels are where agents left the mail: the queue of the conversation's last task (after any
transfer) and that task's tags. The text is the customer's first message, its quoted history
left out. One process does it (the ``mail-learn`` lease): it reads the stored model, learns the
conversations resolved and not learnt yet (``mail_threads.learned_at``), and stores the model
with the conversations marked, in one transaction fenced by the lease, so a conversation is
learnt exactly once whatever crashes. Woken by ``conversation.changed`` (resolved), and every
``poll_s`` in case the event was lost.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Final

from sqlalchemy import select

from relais.channels.email.body import split_quoted
from relais.channels.email.intent import Example, IntentModel
from relais.channels.email.intent_store import do_save_model, load_model
from relais.channels.email.models import MailThread
from relais.conversations.models import Conversation, Message
from relais.core.clock import utcnow
from relais.core.db import Database, UnitOfWork
from relais.routing.lease import StoreLease
from relais.routing.models import Queue, Task

log = logging.getLogger(__name__)

BATCH: Final = 200
MAX_TEXT: Final = 20_000


async def learn_step(db: Database, lease: StoreLease, *, threshold: float) -> bool:
    """Learn one batch of resolved conversations; True if there may be more."""
    async with db.transaction() as uow:
        await lease.fence(uow.session)
        threads = (
            await uow.session.scalars(
                select(MailThread)
                .join(Conversation, Conversation.id == MailThread.conversation_id)
                .where(
                    Conversation.status == "resolved",
                    Conversation.channel == "email",
                    MailThread.learned_at.is_(None),
                )
                .order_by(Conversation.resolved_at)
                .limit(BATCH)
            )
        ).all()
        if not threads:
            return False
        version, model = await load_model(uow.session, threshold)
        learnt = await _learn(uow, model, threads)
        now = utcnow()
        for thread in threads:
            thread.learned_at = now
        if learnt:
            await do_save_model(uow, model, version=version)
        log.info("intent model learnt %d of %d resolved conversations", learnt, len(threads))
    return len(threads) == BATCH


async def _learn(uow: UnitOfWork, model: IntentModel, threads: Sequence[MailThread]) -> int:
    learnt = 0
    for thread in threads:
        example = await example_of(uow, thread)
        if example is None:
            continue
        try:
            model.learn(example)
        except ValueError:  # a label the model refuses (too long): this one is not learnt
            log.warning("conversation %s not learnt: %r", thread.conversation_id, example.queue)
            continue
        learnt += 1
    return learnt


async def example_of(uow: UnitOfWork, thread: MailThread) -> Example | None:
    """The customer's first message and where the conversation's last task ended up."""
    session = uow.session
    row = (
        await session.execute(
            select(Queue.name, Task.attributes)
            .join(Task, Task.queue_id == Queue.id)
            .where(Task.conversation_id == thread.conversation_id)
            .order_by(Task.created_at.desc())
            .limit(1)
        )
    ).first()
    first = await session.scalar(
        select(Message.body)
        .where(Message.conversation_id == thread.conversation_id, Message.author_kind == "visitor")
        .order_by(Message.seq)
        .limit(1)
    )
    if row is None or first is None:
        return None
    queue, attributes = row
    tags = (attributes or {}).get("tags") or []
    text = first[:MAX_TEXT]
    return Example(
        subject=thread.subject,
        body=split_quoted(text).new_text or text,
        queue=queue,
        tags=tuple(t for t in tags if isinstance(t, str)),
    )
