"""Group commit: many small write transactions that arrive together share one.

A chat message is a few indexed statements, yet its own transaction (session, BEGIN, COMMIT,
the WAL write) costs more than the statements. Under load, the messages that arrive while one
transaction runs wait for the next one, and that next one carries all of them: one commit for
tens of messages, and no added delay when traffic is light (a lone message runs at once).

Correctness first: the works of a group must not see one another's failures. If any of them
raises, the whole group is rolled back and every work runs again alone, in its own transaction
(``Database.run``), so each caller gets exactly the result or the error it would have had
without grouping. Events are published once the group commits, in the order of the works.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from relais.core.db import Database, UnitOfWork

T = TypeVar("T")
log = logging.getLogger(__name__)

# Works per transaction: enough to amortise the commit, few enough that a fallback (every work
# alone) stays short and one transaction never holds the SQLite writer for long.
MAX_GROUP = 64
# And a group stops taking works after this long: on SQLite its works run inline, so this bounds
# how long the loop waits for one transaction (64 conversation starts take ~130 ms; a chat
# message ~0.3 ms). The works not taken go first into the next group.
GROUP_BUDGET_S = 0.01

_Work = Callable[["UnitOfWork"], Awaitable[Any]]


class GroupCommit:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._waiting: list[tuple[_Work, asyncio.Future[Any]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self.groups = 0  # transactions run, and the works they carried: for the figures
        self.works = 0

    async def run(self, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.append((work, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        group: list[tuple[_Work, asyncio.Future[Any]]] = []
        try:
            while self._waiting:
                if group:
                    # A transaction on SQLite never waits (its calls run inline), so without
                    # this a backlog of groups would hold the loop from the first to the last:
                    # the frames the last group queued would not be written meanwhile.
                    await asyncio.sleep(0)
                group, self._waiting = self._waiting[:MAX_GROUP], self._waiting[MAX_GROUP:]
                group = [(w, f) for w, f in group if not f.cancelled()]
                if not group:
                    continue
                self.groups += 1
                if len(group) == 1:
                    self.works += 1
                    await self._alone(*group[0])
                else:
                    await self._together(group)
        except BaseException:
            # Stopped (the server shuts down): nobody is left waiting for an answer.
            for _, future in group + self._waiting:
                if not future.done():
                    future.set_exception(RuntimeError("the server is stopping"))
            self._waiting = []
            raise

    async def _together(self, group: list[tuple[_Work, asyncio.Future[Any]]]) -> None:
        results: list[Any] = []
        ran = 0
        started = time.perf_counter()
        try:
            async with self.db.transaction(direct=True) as uow:
                for work, _ in group:
                    ran += 1
                    results.append(await work(uow))
                    if time.perf_counter() - started > GROUP_BUDGET_S:
                        break
        except Exception as exc:
            log.debug("a group of %d failed (%r): each runs alone", ran, exc)
            self.works += ran
            self._waiting[:0] = group[ran:]
            for work, future in group[:ran]:
                await self._alone(work, future)
            return
        self.works += ran
        self._waiting[:0] = group[ran:]
        for (_, future), result in zip(group, results, strict=False):
            if not future.done():
                future.set_result(result)

    async def _alone(self, work: _Work, future: asyncio.Future[Any]) -> None:
        try:
            result = await self.db.run(work, direct=True)
        except Exception as exc:
            if not future.done():
                future.set_exception(exc)
        else:
            if not future.done():
                future.set_result(result)
