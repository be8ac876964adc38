"""One wallboard computation at a time per process, shared by every supervisor.

Every supervisor's page fetches the board on each task or presence frame (at most once a
second each). The board is the same for all of them, so a request takes the last board if no
relevant event came since it was computed (and it is under a second old: waits and the rolling
window move with time), joins a computation already running if that one started after the last
event, and otherwise waits its turn. Computations never overlap, and one starts at least
``min_interval_s`` after the previous one started, or ``share`` times the last one's duration
if longer: however many supervisors and events, the board takes at most a fifth of the process
(with thousands of tasks a day it takes a fraction of a second: bench/wallboard.py), and nobody
is answered with a board older than the last event they were told of (the request waits for
the next one instead).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from relais.channels.email.events import SlaAlert
from relais.core.bus import Event
from relais.identity.events import AgentPresenceChanged
from relais.routing.events import QueueChanged, TaskChanged

T = TypeVar("T")
RELEVANT = (TaskChanged, AgentPresenceChanged, QueueChanged, SlaAlert)


class Coalescer(Generic[T]):
    def __init__(
        self,
        *,
        max_age_s: float = 1.0,
        min_interval_s: float = 1.0,
        share: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_age_s = max_age_s
        self.min_interval_s = min_interval_s
        self.share = share
        self._took = 0.0
        self._started = float("-inf")
        self.clock = clock
        self.generation = 0  # bumped by every relevant event
        self.computed = 0  # how many computations ran (for tests and the bench)
        self._last: tuple[int, float, T] | None = None  # generation, time, value
        self._running: tuple[int, asyncio.Future[T]] | None = None

    def on_event(self, event: Event) -> None:
        if isinstance(event, RELEVANT):
            self.generation += 1

    def invalidate(self) -> None:
        self.generation += 1

    async def get(self, compute: Callable[[], Awaitable[T]]) -> T:
        while True:
            generation = self.generation
            last = self._last
            if last and last[0] == generation and self.clock() - last[1] < self.max_age_s:
                return last[2]
            running = self._running
            if running is not None and running[0] == generation:
                return await asyncio.shield(running[1])
            if running is not None:
                # Started before the latest change: let it finish, then look again.
                await asyncio.wait([running[1]])
                continue
            # Its own task: a supervisor who goes away does not cancel it for the others.
            task = asyncio.ensure_future(self._compute(compute, generation))
            task.add_done_callback(_retrieve)
            self._running = (generation, task)
            return await asyncio.shield(task)

    async def _compute(self, compute: Callable[[], Awaitable[T]], generation: int) -> T:
        try:
            interval = max(self.min_interval_s, self.share * self._took)
            pause = self._started + interval - self.clock()
            if pause > 0:
                await asyncio.sleep(pause)
                # Events during the pause are in this computation: it reads the store after.
                generation = self.generation
                if self._running is not None:
                    self._running = (generation, self._running[1])
            started = self._started = self.clock()
            value = await compute()
            self._took = self.clock() - started
            self._last = (generation, started, value)
            return value
        finally:
            self.computed += 1
            self._running = None


def _retrieve(task: asyncio.Future[Any]) -> None:
    # Whoever waited got the error; nobody left waiting must not leave it "never retrieved".
    if not task.cancelled():
        task.exception()
