"""Work that one process at a time does, again and again: the learner and the SLA watch.

The process holding the lease runs ``step`` until it says there is nothing more to do at once,
then waits for ``wake`` (an event of the bus) or ``poll_s``. Each step's writes are fenced by
the lease (``StoreLease.fence``), so a holder that lost it without knowing writes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from relais.core.db import Database
from relais.routing.lease import LeaseLost, StoreLease

log = logging.getLogger(__name__)


class LeasedLoop:
    def __init__(
        self,
        db: Database,
        name: str,
        step: Callable[[StoreLease], Awaitable[bool]],
        *,
        holder: str,
        poll_s: float,
        lease_ttl_s: float,
    ) -> None:
        self.lease = StoreLease(db, name, holder, ttl_s=lease_ttl_s)
        self.step = step
        self.poll_s = poll_s
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.lease.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(Exception):
            await self.lease.release()

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                if await self.lease.acquire():
                    while await self.step(self.lease):
                        pass
            except asyncio.CancelledError:
                raise
            except LeaseLost:
                log.warning("%s lease lost by %s", self.lease.name, self.lease.holder)
            except Exception:
                log.exception("%s failed; trying again", self.lease.name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_s)
