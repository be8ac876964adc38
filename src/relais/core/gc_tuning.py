"""Full garbage collections without long pauses, for `relais serve`.

A server with thousands of WebSocket connections holds about 200 tracked objects for each
(coroutines, queues, closure cells). CPython's full (generation 2) collection scans them all:
90-370 ms at 2,000 connections, during which every connection waits (bench/chat_latency.py).

What survives a full collection is long-lived, so it is frozen (``gc.freeze``): later full
collections scan only what is newer. Frozen objects that then die in a reference cycle would
never be reclaimed, so once a period everything is unfrozen, and the next full collection goes
over the whole heap once and reclaims them: one long pause an hour instead of one every few
seconds under load.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

SWEEP_EVERY_S = 3600.0


class CollectorTuning:
    def __init__(
        self,
        *,
        sweep_every_s: float = SWEEP_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sweep_every_s = sweep_every_s
        self._clock = clock
        self._last_sweep = clock()

    def install(self) -> None:
        gc.callbacks.append(self._after_collection)

    def uninstall(self) -> None:
        if self._after_collection in gc.callbacks:
            gc.callbacks.remove(self._after_collection)
        gc.unfreeze()

    def _after_collection(self, phase: str, info: dict[str, Any]) -> None:
        if phase != "stop" or info["generation"] != 2:
            return
        now = self._clock()
        if now - self._last_sweep >= self.sweep_every_s:
            # The next full collection sees the whole heap again; it freezes what survives.
            self._last_sweep = now
            gc.unfreeze()
        else:
            gc.freeze()
