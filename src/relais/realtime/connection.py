"""One client's WebSocket: an outbox with a bound, a per-connection sequence, and de-duplication.

Fan-out never waits on a socket: frames go into a bounded queue that a writer task drains. A
client too slow to keep up is disconnected (close code 1013) and resumes from the store when it
reconnects, so one slow client cannot stall the others nor make the server's memory grow.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from relais.identity.principals import Principal

log = logging.getLogger(__name__)

TOO_SLOW = 1013
SESSION_ENDED = 4401


class Socket(Protocol):
    async def send_text(self, data: str) -> None: ...
    async def close(self, code: int = 1000, reason: str | None = None) -> None: ...


class Connection:
    def __init__(self, socket: Socket, principal: Principal, *, max_outbox: int) -> None:
        self.socket = socket
        self.principal = principal
        self.beat_slot = 0  # the slice of the heartbeat period it beats in (realtime.gateway)
        self.seq = 0
        # Latest message seq delivered per conversation: replay and live delivery overlap while
        # a connection resumes, and this keeps each message to one delivery.
        self.cursors: dict[str, int] = {}
        # Client ids of this connection's sends in progress: their message comes back to it in
        # the ack, so the gateway does not send it a second time as a message frame.
        self.sending: set[str] = set()
        self._outbox: asyncio.Queue[str | None] = asyncio.Queue(maxsize=max_outbox)
        self._held: list[tuple[str, str | None, int]] | None = []  # held while replaying
        self.closed = False
        self.too_slow = False
        # An agent's login (identity.service.session_digest): the socket ends with it.
        self.session: str | None = None
        self._close_with: tuple[int, str] | None = None

    # Frame bodies are JSON objects serialised once per event; the per-connection sequence is
    # spliced in front, so a fan-out to N clients costs N string joins, not N serialisations.
    def push(self, body: str, *, conversation_id: str | None = None, message_seq: int = 0) -> None:
        if self.closed:
            return
        if self._held is not None:
            self._held.append((body, conversation_id, message_seq))
            return
        self._deliver(body, conversation_id, message_seq)

    def has_in_ack(self, conversation_id: str, message_seq: int) -> None:
        """This connection gets the message in the ack of its own send: count it as delivered,
        so that a replay does not send it again."""
        self._advance(conversation_id, message_seq)

    def _advance(self, conversation_id: str, message_seq: int) -> bool:
        """Count the message as delivered; False if it already was."""
        if message_seq <= self.cursors.get(conversation_id, 0):
            return False
        self.cursors[conversation_id] = message_seq
        return True

    def push_now(self, body: str) -> None:
        """Deliver even while replaying (the replay itself uses this)."""
        self._deliver(body, None, 0)

    async def replay(
        self, body: str, conversation_id: str | None = None, message_seq: int = 0
    ) -> None:
        """A frame of the resume: it waits for room instead of counting as slowness, since a
        client that was away long may be owed more frames than the outbox holds."""
        text = self._frame(body, conversation_id, message_seq)
        if text is not None:
            await self._outbox.put(text)

    async def release(self) -> None:
        """End of replay: deliver what arrived meanwhile, minus what the replay already sent.
        Like the replay, it waits for room: a long resume may have held many live frames."""
        while self._held:
            held, self._held = self._held, []
            for body, conversation_id, message_seq in held:
                await self.replay(body, conversation_id, message_seq)
        self._held = None

    def _frame(self, body: str, conversation_id: str | None, message_seq: int) -> str | None:
        if self.closed:
            return None
        # A message frame is sent once per connection; other frames have no message seq.
        if (
            conversation_id is not None
            and message_seq
            and not self._advance(conversation_id, message_seq)
        ):
            return None
        self.seq += 1
        return f'{{"seq":{self.seq},{body[1:]}'

    def _deliver(self, body: str, conversation_id: str | None, message_seq: int) -> None:
        text = self._frame(body, conversation_id, message_seq)
        if text is None:
            return
        try:
            self._outbox.put_nowait(text)
        except asyncio.QueueFull:
            log.warning(
                "closing a connection of %s %s: too slow", self.principal.kind, self.principal.id
            )
            # Nothing queued is dropped (the client would see a hole): the writer stops after
            # the frame it is sending, and the client resumes from its cursors.
            self.closed = self.too_slow = True

    def send_ready(self, body: str) -> None:
        """The first frame, with seq 0, before anything else."""
        self._outbox.put_nowait(f'{{"seq":0,{body[1:]}')

    def close(self) -> None:
        self.closed = True
        with contextlib.suppress(asyncio.QueueFull):
            self._outbox.put_nowait(None)

    def end(self, code: int, reason: str) -> None:
        """Close the socket itself with ``code`` once what is queued is sent (the client reads
        the code: 4401 means "log in again", not "reconnect")."""
        self._close_with = (code, reason)
        self.close()

    async def write_loop(self) -> None:
        while True:
            text = await self._outbox.get()
            if text is None or self.too_slow:
                break
            await self.socket.send_text(text)
            if self.closed and self._outbox.empty():
                break  # closed while the outbox was full: its end marker could not be queued
        if self.too_slow:
            with contextlib.suppress(Exception):
                await self.socket.close(TOO_SLOW, "too slow; reconnect and resume")
        elif self._close_with is not None:
            with contextlib.suppress(Exception):
                await self.socket.close(*self._close_with)
