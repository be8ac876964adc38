"""The WebSocket gateway: which local connection receives which event.

Every process runs one gateway subscribed to the bus. Connections are indexed by visitor, by
agent and by team, so an event costs a few dictionary look-ups and one serialisation, whatever the
number of connections. Each candidate still passes ``can_read``: the index picks, the access check
decides.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select

from relais.channels.callback.events import CallbackChanged
from relais.channels.email.events import SlaAlert
from relais.conversations.access import can_read, held_by_another
from relais.conversations.events import (
    ConversationChanged,
    MessageCreated,
    ReadUpTo,
    Typing,
    VisitorPageViewed,
)
from relais.conversations.models import Conversation
from relais.conversations.schemas import ConversationRef, MessageOut
from relais.core.bus import Event
from relais.core.db import Database
from relais.identity.events import AgentPresenceChanged
from relais.identity.principals import VisitorPrincipal
from relais.identity.service import live_sessions
from relais.realtime.connection import SESSION_ENDED, Connection
from relais.realtime.frames import message_body
from relais.routing.events import CallbackOffered, QueuePosition, TaskChanged

log = logging.getLogger(__name__)


# At 2,000 connections a slice is 20 of them: their heartbeats hold the loop about a ms.
HEARTBEAT_SLICES = 100


def _is_author(conn: Connection, message: MessageOut) -> bool:
    p = conn.principal
    return p.kind == message.author_kind and p.id == message.author_id


def _dumps(obj: dict[str, object]) -> str:
    return json.dumps(obj, separators=(",", ":"), default=str)


class Gateway:
    def __init__(self, db: Database, *, heartbeat_s: float) -> None:
        self._db = db
        self._heartbeat_s = heartbeat_s
        self._by_visitor: dict[str, set[Connection]] = defaultdict(set)
        self._by_agent: dict[str, set[Connection]] = defaultdict(set)
        self._by_team: dict[str, set[Connection]] = defaultdict(set)
        self._all_seeing: set[Connection] = set()
        self._by_slot: list[set[Connection]] = [set() for _ in range(HEARTBEAT_SLICES)]
        self._visitors: set[Connection] = set()
        self._agents_online: bool | None = None
        self._heartbeat_task: asyncio.Task[None] | None = None
        self._slots = itertools.count()

    # -- registry ---------------------------------------------------------------------------

    def add(self, conn: Connection) -> None:
        p = conn.principal
        conn.beat_slot = next(self._slots) % HEARTBEAT_SLICES
        self._by_slot[conn.beat_slot].add(conn)
        if isinstance(p, VisitorPrincipal):
            self._by_visitor[p.visitor_id].add(conn)
            self._visitors.add(conn)
            return
        self._by_agent[p.agent_id].add(conn)
        for team_id in p.team_ids:
            self._by_team[team_id].add(conn)
        if p.sees_everything:
            self._all_seeing.add(conn)

    def remove(self, conn: Connection) -> None:
        p = conn.principal
        self._by_slot[conn.beat_slot].discard(conn)
        if isinstance(p, VisitorPrincipal):
            _discard(self._by_visitor, p.visitor_id, conn)
            self._visitors.discard(conn)
            return
        _discard(self._by_agent, p.agent_id, conn)
        for team_id in p.team_ids:
            _discard(self._by_team, team_id, conn)
        self._all_seeing.discard(conn)

    @property
    def connection_count(self) -> int:
        return len(self._visitors) + sum(len(s) for s in self._by_agent.values())

    def _recipients(self, ref: ConversationRef, *, whole_team: bool) -> Iterable[Connection]:
        found: set[Connection] = set()
        if ref.visitor_id:
            found |= self._by_visitor.get(ref.visitor_id, set())
        if ref.assignee_id:
            found |= self._by_agent.get(ref.assignee_id, set())
        # The team sees changes of its conversations (lists, queue) and everything of one no
        # agent holds yet; once assigned, messages go to the assignee (and supervisors) only.
        if whole_team or ref.assignee_id is None:
            found |= self._by_team.get(ref.team_id, set())
        found |= self._all_seeing
        return [c for c in found if can_read(c.principal, ref)]

    # -- events -----------------------------------------------------------------------------

    def on_event(self, event: Event) -> None:
        if isinstance(event, MessageCreated):
            message = event.message
            body = message_body(message, event.conversation_status)
            for conn in self._recipients(event.ref, whole_team=False):
                if message.client_id in conn.sending and _is_author(conn, message):
                    conn.has_in_ack(event.ref.id, message.seq)
                else:
                    conn.push(body, conversation_id=event.ref.id, message_seq=message.seq)
        elif isinstance(event, ConversationChanged):
            body = _dumps(
                {
                    "type": "conversation",
                    "reason": event.reason,
                    "conversation": event.conversation.model_dump(mode="json"),
                }
            )
            for conn in self._recipients(event.ref, whole_team=True):
                if held_by_another(conn.principal, event.ref.assignee_id):
                    # The team hears that a colleague took it, then stops following it.
                    conn.cursors.pop(event.ref.id, None)
                else:
                    conn.cursors.setdefault(event.ref.id, 0)
                conn.push(body)
        elif isinstance(event, Typing):
            body = _dumps(
                {
                    "type": "typing",
                    "conversation_id": event.ref.id,
                    "author_kind": event.author_kind,
                    "author_name": event.author_name,
                    "typing": event.typing,
                }
            )
            for conn in self._recipients(event.ref, whole_team=False):
                if conn.principal.kind != event.author_kind:
                    conn.push(body)
        elif isinstance(event, ReadUpTo):
            body = _dumps(
                {
                    "type": "read",
                    "conversation_id": event.ref.id,
                    "reader_kind": event.reader_kind,
                    "read_seq": event.seq,
                }
            )
            for conn in self._recipients(event.ref, whole_team=False):
                conn.push(body)
        elif isinstance(event, VisitorPageViewed):
            body = _dumps(
                {
                    "type": "visitor_page",
                    "conversation_id": event.ref.id,
                    "visitor_id": event.ref.visitor_id,
                    "url": event.url,
                    "title": event.title,
                    "at": event.at.isoformat(),
                }
            )
            for conn in self._recipients(event.ref, whole_team=False):
                if conn.principal.kind == "agent":
                    conn.push(body)
        elif isinstance(event, AgentPresenceChanged):
            self._on_presence(event)
        elif isinstance(event, TaskChanged):
            self._on_task(event)
        elif isinstance(event, QueuePosition):
            body = _dumps(
                {
                    "type": "queue_position",
                    "conversation_id": event.conversation_id,
                    "task_id": event.task_id,
                    "position": event.position,
                    "estimated_wait_s": event.estimated_wait_s,
                }
            )
            for conn in self._by_visitor.get(event.visitor_id, ()):
                conn.push(body)
        elif isinstance(event, CallbackOffered) and event.visitor_id:
            body = _dumps({"type": "callback_offered", "task_id": event.task_id})
            for conn in self._by_visitor.get(event.visitor_id, ()):
                conn.push(body)
        elif isinstance(event, SlaAlert):
            # Supervisors and admins only: an e-mail task at risk of missing, or missing, its SLA.
            body = _dumps({"type": "sla", **event.model_dump(mode="json", exclude={"type"})})
            for conn in self._all_seeing:
                conn.push(body)
        elif isinstance(event, CallbackChanged):
            # The visitor's own callback only; agents follow its task.
            body = _dumps({"type": "callback", "callback": event.callback.model_dump(mode="json")})
            for conn in self._by_visitor.get(event.visitor_id, ()):
                conn.push(body)

    def _on_task(self, event: TaskChanged) -> None:
        """The task's agent (offers, wrap-up), the one it left (a lapsed offer disappears) and
        the supervisors (wallboard) hear of each move; nobody else."""
        body = _dumps(
            {
                "type": "task",
                "command": event.command,
                "task": event.task.model_dump(mode="json"),
            }
        )
        found = set(self._all_seeing)
        for agent_id in (event.task.agent_id, event.previous_agent_id):
            if agent_id:
                found |= self._by_agent.get(agent_id, set())
        for conn in found:
            conn.push(body)

    def _on_presence(self, event: AgentPresenceChanged) -> None:
        body = _dumps({"type": "presence", "agent_id": event.agent_id, "presence": event.presence})
        agents: set[Connection] = set(self._all_seeing) | self._by_agent.get(event.agent_id, set())
        for team_id in event.team_ids:
            agents |= self._by_team.get(team_id, set())
        for conn in agents:
            conn.push(body)
        if event.agents_online != self._agents_online:
            self._agents_online = event.agents_online
            visitor_body = _dumps({"type": "presence", "agents_online": event.agents_online})
            for conn in self._visitors:
                conn.push(visitor_body)

    # -- heartbeats -------------------------------------------------------------------------

    async def start(self) -> None:
        self._heartbeat_task = asyncio.create_task(self._heartbeats(), name="ws-heartbeats")

    async def stop(self) -> None:
        if self._heartbeat_task:
            self._heartbeat_task.cancel()
        for conn in list(self._visitors) + [c for s in self._by_agent.values() for c in s]:
            conn.close()

    async def _heartbeats(self) -> None:
        # Each connection beats once a period, but in one slice of the period out of
        # HEARTBEAT_SLICES: thousands of heartbeats written at one instant are a burst of socket
        # writes that holds the loop (and every message behind it) for a few hundred ms.
        slot = 0
        while True:
            await asyncio.sleep(self._heartbeat_s / HEARTBEAT_SLICES)
            try:
                await self.beat(slot)
            except Exception:
                log.exception("heartbeat failed")
            slot = (slot + 1) % HEARTBEAT_SLICES

    async def beat(self, slot: int | None = None) -> None:
        """Send every client (of one slice, when ``slot`` is given) the store's latest seq of its
        conversations: one query for all, so that a client that silently missed an event
        notices and fetches the range.

        And close the sockets of agents whose login ended (logged out, expired, deactivated):
        the socket was authorised once, at its hello, and would otherwise go on receiving
        every frame of the agent's teams for as long as it stays open."""
        slots = self._by_slot if slot is None else [self._by_slot[slot]]
        conns = [c for members in slots for c in members]
        sessions = {c.session for c in conns if c.session}
        latest: dict[str, int] = {}
        async with self._db.transaction(write=False) as uow:
            live = await live_sessions(uow.session, sessions) if sessions else set()
            ended = {c for c in conns if c.session is not None and c.session not in live}
            for conn in ended:
                self.remove(conn)
                conn.end(SESSION_ENDED, "session ended")
            conns = [c for c in conns if c not in ended]
            ids = list({cid for c in conns for cid in c.cursors})
            for i in range(0, len(ids), 500):
                rows = await uow.session.execute(
                    select(Conversation.id, Conversation.last_seq).where(
                        Conversation.id.in_(ids[i : i + 500])
                    )
                )
                latest.update({row.id: row.last_seq for row in rows})
        for conn in conns:
            cursors = {cid: latest[cid] for cid in conn.cursors if cid in latest}
            conn.push_now(_dumps({"type": "heartbeat", "cursors": cursors}))


def _discard(index: dict[str, set[Connection]], key: str, conn: Connection) -> None:
    bucket = index.get(key)
    if bucket is not None:
        bucket.discard(conn)
        if not bucket:
            del index[key]
