"""Watches the event loop: how late a periodic timer fires is how long the loop was blocked.

A stall delays every connection of the process at once, so its longest value is one of the
figures operators (and bench/chat_latency.py) read from /healthz.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque


class LoopMonitor:
    def __init__(self, interval_s: float = 0.02, window_s: float = 60.0) -> None:
        self.interval_s = interval_s
        self.max_lag_s = 0.0
        self._recent: deque[tuple[float, float]] = deque()
        self._window_s = window_s
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._watch(), name="loop-monitor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def recent_max_s(self) -> float:
        """The longest stall within the window."""
        return max((lag for _, lag in self._recent), default=0.0)

    async def _watch(self) -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(self.interval_s)
            now = time.perf_counter()
            lag = max(0.0, now - start - self.interval_s)
            self.max_lag_s = max(self.max_lag_s, lag)
            if lag > 0.005:  # only what could matter is kept
                self._recent.append((now, lag))
            while self._recent and self._recent[0][0] < now - self._window_s:
                self._recent.popleft()
