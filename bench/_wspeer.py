"""One simulated WebSocket client: connects, reconnects with backoff, and keeps what it sent
until the server acknowledged it, so that nothing is lost across a restart (as the widget does).

Subclasses speak a protocol (Relais's, or the bare relay's); this class moves frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
import time
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.typing import Origin

from _wsledger import Direction, Ledger

Frame = dict[str, Any]
BODIES = (
    "Hello, my order has not arrived yet.",
    "The tracking number says **delivered** but I have nothing.",
    "Could you check order 48213 please?",
    "Thanks, that helps a lot!",
    "I paid twice, see https://shop.example/orders/48213",
)


@dataclass
class Context:
    """What every client of one generator process shares."""

    ledger: Ledger
    rng: random.Random
    compression: str | None = "deflate"
    reply_ratio: float = 0.1
    ids: itertools.count[int] = field(default_factory=itertools.count)
    run_id: str = field(default_factory=lambda: f"{random.getrandbits(32):08x}")
    errors: Counter[str] = field(default_factory=Counter)
    closes: Counter[str] = field(default_factory=Counter)
    seq_gaps: int = 0
    catch_up: bool = False  # fetch over REST what heartbeats show missing (--catch-up)
    fetched: int = 0  # messages caught up over REST after a heartbeat showed them missing
    fetched_ids: set[str] = field(default_factory=set)
    late_frames: int = 0  # frames of messages already fetched over REST
    stopping: bool = False
    http: httpx.AsyncClient = field(default_factory=lambda: httpx.AsyncClient(trust_env=False))
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def spawn(self, job: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(job)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def client_id(self) -> str:
        return f"{self.run_id}-{next(self.ids)}"

    def body(self) -> str:
        return self.rng.choice(BODIES)


class Peer(ABC):
    acked = True  # keep each sent frame until the server acknowledges it (resent on reconnect)

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.ready = asyncio.Event()
        self.connected_at = 0.0
        self.connects = 0
        self.pending: dict[str, str] = {}  # client id -> frame, in sending order
        self._ws: ClientConnection | None = None
        self._outbox: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None

    # -- what a protocol defines --------------------------------------------------------------

    @abstractmethod
    def uri(self) -> str: ...

    def origin(self) -> str | None:
        return None

    def headers(self) -> dict[str, str]:
        return {}

    async def opened(self, ws: ClientConnection) -> None:
        """Just connected: say hello, or be ready at once."""
        self._became_ready()

    @abstractmethod
    def on_frame(self, frame: Frame, now: float) -> None: ...

    # -- sending ------------------------------------------------------------------------------

    def send(self, client_id: str, frame: Frame, direction: Direction) -> None:
        text = json.dumps(frame, separators=(",", ":"))
        self.ctx.ledger.generated(client_id, direction, time.monotonic())
        if self.acked:
            self.pending[client_id] = text
        if self.ready.is_set():
            self._outbox.put_nowait((client_id, text))

    def acknowledged(self, client_id: str) -> None:
        self.pending.pop(client_id, None)

    def resend(self, client_id: str) -> None:
        """The server asked for this frame again: it goes now if connected, else on reconnect."""
        text = self.pending.get(client_id)
        if text is not None and self.ready.is_set():
            self._outbox.put_nowait((client_id, text))

    def _became_ready(self) -> None:
        """Connected and authenticated: resend, in order, whatever was never acknowledged."""
        self.connected_at = time.monotonic()
        self._outbox = asyncio.Queue()
        for item in self.pending.items():
            self._outbox.put_nowait(item)
        if self._ws is not None:
            self._writer = asyncio.create_task(self._write(self._ws, self._outbox))
        self.ready.set()

    async def _write(self, ws: ClientConnection, outbox: asyncio.Queue[tuple[str, str]]) -> None:
        # One writer per connection keeps frames in order; a frame lost with the connection is
        # still in `pending` and goes again on the next one.
        with contextlib.suppress(ConnectionClosed):
            while True:
                client_id, text = await outbox.get()
                self.ctx.ledger.written(client_id, time.monotonic())
                await ws.send(text)

    # -- the connection's life ----------------------------------------------------------------

    async def run(self) -> None:
        attempt = 0
        while not self.ctx.stopping:
            try:
                async with connect(
                    self.uri(),
                    origin=Origin(o) if (o := self.origin()) else None,
                    additional_headers=self.headers(),
                    compression=self.ctx.compression,
                    proxy=None,
                    open_timeout=30,
                    ping_interval=None,  # the servers ping; answering is enough
                    max_queue=None,  # read as fast as frames come: we measure the server
                ) as ws:
                    self._ws = ws
                    self.connects += 1
                    await self.opened(ws)
                    async for raw in ws:
                        self.on_frame(json.loads(raw), time.monotonic())
                        if self.ready.is_set():
                            attempt = 0
            except ConnectionClosed as exc:
                code = exc.rcvd.code if exc.rcvd else 1006
                self.ctx.closes[str(code)] += 1
                if code in (4401, 4403, 1008):  # refused for good: retrying would not help
                    self.ctx.errors[f"closed_{code}"] += 1
                    return
            except InvalidStatus as exc:
                self.ctx.closes[f"http_{exc.response.status_code}"] += 1
            except (OSError, InvalidHandshake, TimeoutError) as exc:
                self.ctx.closes[type(exc).__name__] += 1
            finally:
                await self._lost()
            attempt += 1
            # Full jitter: a restarted server is not hit by every client at the same instant.
            await asyncio.sleep(self.ctx.rng.uniform(0, min(2.0, 0.1 * 2**attempt)))

    async def _lost(self) -> None:
        self.ready.clear()
        self._ws = None
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
            self._writer = None

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()

    def reconnect(self) -> None:
        """Drop the connection; run() comes back with the cursors (after a gap in seq)."""
        if self._ws is not None:
            self.ctx.spawn(self._ws.close(4000, "resume"))
