"""Garbage collection in short steps on the event loop's schedule, for `relais serve`.

A server with thousands of WebSocket connections holds about 200 tracked objects for each, and
every message replaces a few of them (the futures its connection's tasks wait on, their
coroutines). Left to itself, CPython collects when allocations outnumber deallocations by 700,
which under chat load meant young collections of 10,000-28,000 objects (5-20 ms), middle ones
of 50,000 (50-75 ms) and full ones of the whole heap (90-370 ms at 2,000 connections), each
stopping every connection of the process, in the middle of whatever was running
(bench/chat_latency.py).

So the automatic collector is off and this one runs as a loop task, between callbacks:
- every ``young_every_s``, the youngest generation: what was allocated since the last step;
- every ``middle_every`` steps, the two young generations, then what survived is frozen
  (``gc.freeze``): it is long-lived (connections and their state), and later collections no
  longer scan it;
- every ``sweep_every_s``, everything is unfrozen and collected once, so that objects which died
  in a reference cycle after being frozen are reclaimed: one longer pause a period.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import Callable

YOUNG_EVERY_S = 0.1
MIDDLE_EVERY = 4
SWEEP_EVERY_S = 3600.0


class LoopCollector:
    def __init__(
        self,
        *,
        young_every_s: float = YOUNG_EVERY_S,
        middle_every: int = MIDDLE_EVERY,
        sweep_every_s: float = SWEEP_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.young_every_s = young_every_s
        self.middle_every = middle_every
        self.sweep_every_s = sweep_every_s
        self._clock = clock
        self._last_sweep = clock()
        self._steps = 0
        self._task: asyncio.Task[None] | None = None
        self._was_enabled = True

    async def start(self) -> None:
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._task = asyncio.create_task(self._run(), name="gc")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        gc.unfreeze()
        if self._was_enabled:
            gc.enable()

    def step(self) -> None:
        """One collection: young, middle (then freeze) or, once a period, everything."""
        self._steps += 1
        now = self._clock()
        if now - self._last_sweep >= self.sweep_every_s:
            self._last_sweep = now
            gc.unfreeze()
            gc.collect()
            gc.freeze()
        elif self._steps % self.middle_every == 0:
            gc.collect(1)
            gc.freeze()
        else:
            gc.collect(0)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.young_every_s)
            self.step()
