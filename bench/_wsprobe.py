"""The event-loop stall of a server, seen from outside, and what Relais says of its own.

The probe asks ``GET /healthz`` every 10 ms on one keep-alive connection, from the orchestrator
(not from the busy load generator). A server whose loop is blocked for S ms answers S ms late, so
the longest gap between two answers, beyond the interval, is the longest stall it showed (plus
one request's own cost). The same probe measures both servers, so the two figures compare.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import httpx

INTERVAL_S = 0.010


class StallProbe:
    def __init__(self, url: str) -> None:
        self.url = url
        self.longest_s = 0.0
        self.failures = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> float:
        """Stop; the longest gap beyond the interval, in ms."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        return self.longest_s * 1000

    async def _run(self) -> None:
        async with httpx.AsyncClient(trust_env=False, timeout=30) as client:
            last = time.monotonic()
            while True:
                try:
                    await client.get(self.url)
                except httpx.HTTPError:
                    self.failures += 1
                now = time.monotonic()
                self.longest_s = max(self.longest_s, now - last - INTERVAL_S)
                last = now
                await asyncio.sleep(INTERVAL_S)


async def server_monitor_ms(url: str) -> float | None:
    """Relais's own loop monitor: the longest stall since it started (None if not exposed)."""
    with contextlib.suppress(httpx.HTTPError, ValueError, KeyError, TypeError):
        async with httpx.AsyncClient(trust_env=False, timeout=10) as client:
            return float((await client.get(url)).json()["loop_stall_max_ms"])
    return None
