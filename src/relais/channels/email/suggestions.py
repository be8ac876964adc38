"""Suggested answers for the desk: past agent replies of resolved e-mail conversations, found
through the questions they answered (suggest.py's ``PastReplies``).

Each process keeps its own index, in memory: built from the store when the process starts
(the most recent ``max_pairs`` replies), then added to when a conversation is resolved
(``conversation.changed`` with reason ``resolved``, heard by every process). A process that
misses that event lacks those replies until it restarts: suggestions are a help, the store is
not changed by them. Past ``max_pairs`` the oldest replies leave the index.

A pair is an agent's message and the customer's words before it (their new text, quoted
history left out), in the conversation's answer language.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy import select

from relais.channels.email.body import split_quoted
from relais.channels.email.models import MailThread
from relais.channels.email.suggest import PastReplies, Suggestion, suggest
from relais.conversations.events import ConversationChanged
from relais.conversations.models import Conversation, Message
from relais.core.bus import Event
from relais.core.db import Database

log = logging.getLogger(__name__)

MAX_QUESTION: Final = 8 * 1024
CHUNK: Final = 200  # conversations read per query while building


@dataclass(frozen=True, slots=True)
class Pair:
    id: str  # the agent's message
    question: str
    reply: str
    language: str | None


def pairs_of(messages: Sequence[Message], language: str | None) -> list[Pair]:
    """Each agent message with the customer's messages since the previous agent message."""
    out: list[Pair] = []
    asked: list[str] = []
    for message in messages:
        if message.author_kind == "visitor":
            text = message.body[:MAX_QUESTION]
            asked.append(split_quoted(text).new_text or text)
        elif message.author_kind == "agent" and asked and message.body.strip():
            out.append(Pair(message.id, "\n".join(asked)[:MAX_QUESTION], message.body, language))
            asked = []
    return out


class ReplyIndex:
    """The per-process index of past replies (see the module's docstring)."""

    def __init__(self, db: Database, *, max_pairs: int = 10_000) -> None:
        self.db = db
        self.max_pairs = max_pairs
        self.replies = PastReplies()
        self._order: OrderedDict[str, None] = OrderedDict()  # pair ids, oldest first
        self._pending: set[str] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self.replies)

    def add(self, pairs: Iterable[Pair]) -> None:
        for pair in pairs:
            self.replies.add(pair.id, pair.question, pair.reply, language=pair.language)
            self._order[pair.id] = None
            self._order.move_to_end(pair.id)
        while len(self._order) > self.max_pairs:
            oldest, _ = self._order.popitem(last=False)
            self.replies.remove(oldest)

    def suggest(
        self, subject: str, body: str, *, k: int = 3, language: str | None = None
    ) -> list[Suggestion]:
        return suggest([self.replies], subject, body, k=k, language=language)

    def on_event(self, event: Event) -> None:
        if (
            isinstance(event, ConversationChanged)
            and event.reason == "resolved"
            and event.conversation.channel == "email"
        ):
            self._pending.add(event.conversation.id)
            self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="mail-suggestions")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        try:
            await self.build()
        except Exception:
            log.exception("the suggestions index could not be built; it fills as mail resolves")
        while True:
            await self._wake.wait()
            self._wake.clear()
            ids, self._pending = list(self._pending), set()
            try:
                self.add(await self._load(ids))
            except Exception:
                log.exception("suggestions: %d resolved conversations not indexed", len(ids))

    async def build(self) -> None:
        """The most recent replies of resolved e-mail conversations, newest conversations read
        first until ``max_pairs`` are found; added oldest first so the newest stay longest."""
        found: list[Pair] = []
        before = None
        while len(found) < self.max_pairs:
            async with self.db.transaction(write=False) as uow:
                query = (
                    select(Conversation.id, Conversation.resolved_at)
                    .where(Conversation.channel == "email", Conversation.status == "resolved")
                    .order_by(Conversation.resolved_at.desc(), Conversation.id.desc())
                    .limit(CHUNK)
                )
                if before is not None:
                    query = query.where(Conversation.resolved_at < before)
                rows = (await uow.session.execute(query)).all()
            if not rows:
                break
            before = rows[-1][1]
            pairs = await self._load([r[0] for r in reversed(rows)])
            found = pairs + found  # pairs of older conversations go first
            if len(rows) < CHUNK or before is None:
                break
        # Indexing thousands of replies takes a second or so: in a thread, into a new index that
        # replaces the empty one when done (requests meanwhile read the old one).
        fresh = ReplyIndex(self.db, max_pairs=self.max_pairs)
        await asyncio.to_thread(fresh.add, found[-self.max_pairs :] if self.max_pairs else [])
        self.replies, self._order = fresh.replies, fresh._order
        log.info("suggestions index: %d past replies", len(self))

    async def _load(self, conversation_ids: Sequence[str]) -> list[Pair]:
        if not conversation_ids:
            return []
        async with self.db.transaction(write=False) as uow:
            languages = dict(
                (
                    await uow.session.execute(
                        select(MailThread.conversation_id, MailThread.language).where(
                            MailThread.conversation_id.in_(conversation_ids)
                        )
                    )
                ).all()
            )
            messages = (
                await uow.session.scalars(
                    select(Message)
                    .where(Message.conversation_id.in_(conversation_ids))
                    .order_by(Message.conversation_id, Message.seq)
                )
            ).all()
        by_conversation: dict[str, list[Message]] = {}
        for message in messages:
            by_conversation.setdefault(message.conversation_id, []).append(message)
        out: list[Pair] = []
        for conversation_id in conversation_ids:  # in the order asked
            messages_of = by_conversation.get(conversation_id, [])
            out += pairs_of(messages_of, languages.get(conversation_id))
        return out
