"""The event-loop stall of a server, seen from outside, and what Relais says of its own.

The probe holds one WebSocket of its own (from the orchestrator, not from the busy load
generator) and sends a protocol-level ping every 10 ms. The server's WebSocket layer answers a
ping as soon as the loop reads it, without running any application code, so the probe costs the
server almost nothing; a loop blocked for S ms answers S ms late. The longest gap between two
pongs, beyond the interval, is the longest stall the server showed. Same probe for both servers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

INTERVAL_S = 0.010


class StallProbe:
    def __init__(
        self,
        uri: str,
        *,
        origin: str | None = None,
        hello: Callable[[ClientConnection], Awaitable[None]] | None = None,
    ) -> None:
        self.uri, self.origin, self.hello = uri, origin, hello
        self.longest_s = 0.0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        ws = await connect(
            self.uri,
            origin=Origin(self.origin) if self.origin else None,
            proxy=None,
            ping_interval=None,
            compression=None,
        )
        if self.hello is not None:
            await self.hello(ws)
        self._task = asyncio.create_task(self._run(ws))

    async def stop(self) -> float:
        """Stop; the longest gap beyond the interval, in ms."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        return self.longest_s * 1000

    async def _run(self, ws: ClientConnection) -> None:
        reader = asyncio.create_task(_discard(ws))  # heartbeats and such: read, ignored
        try:
            last = time.monotonic()
            while True:
                await (await ws.ping())
                now = time.monotonic()
                self.longest_s = max(self.longest_s, now - last - INTERVAL_S)
                last = now
                await asyncio.sleep(INTERVAL_S)
        finally:
            reader.cancel()
            await ws.close()


async def _discard(ws: ClientConnection) -> None:
    with contextlib.suppress(ConnectionClosed):
        async for _ in ws:
            pass


def relais_hello(token: str) -> Callable[[ClientConnection], Awaitable[None]]:
    """A visitor's hello: Relais keeps a connection open only once it is authenticated."""

    async def hello(ws: ClientConnection) -> None:
        await ws.send(json.dumps({"type": "hello", "token": token, "cursors": {}}))
        while json.loads(await ws.recv()).get("type") != "ready":
            pass

    return hello


async def server_monitor_ms(url: str) -> float | None:
    """Relais's own loop monitor: the longest stall since it started (None if not exposed)."""
    with contextlib.suppress(httpx.HTTPError, ValueError, KeyError, TypeError):
        async with httpx.AsyncClient(trust_env=False, timeout=10) as client:
            return float((await client.get(url)).json()["loop_stall_max_ms"])
    return None
