"""Group commit on each database: works that arrive together share a transaction, and each
still gets exactly the outcome it would have had alone."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from sqlalchemy import func, select

from relais.core.bus import Event, MemoryBus
from relais.core.db import Database, UnitOfWork
from relais.core.errors import Invalid
from relais.identity.models import Team


class Made(Event):
    type: str = "test.made"
    name: str


async def test_works_that_arrive_together_share_a_transaction(database_url: str) -> None:
    bus = MemoryBus()
    heard: list[Event] = []
    bus.subscribe(heard.append)
    db = Database(database_url, bus)

    def make(name: str, *, fail: bool = False) -> Callable[[UnitOfWork], Awaitable[str]]:
        async def work(uow: UnitOfWork) -> str:
            uow.session.add(Team(name=name))
            await uow.session.flush()
            uow.emit(Made(name=name))
            if fail:
                raise Invalid(f"{name} is refused", code="refused")
            return name

        return work

    try:
        names = [f"team-{i}" for i in range(20)]
        results = await asyncio.gather(
            *(db.run_grouped(make(n)) for n in names),
            db.run_grouped(make("refused", fail=True)),
            db.run_grouped(make("team-0")),  # the same name again: the unique rule refuses it
            return_exceptions=True,
        )
        assert results[:20] == names, "each work gets its own result"
        assert isinstance(results[20], Invalid) and results[20].code == "refused"
        assert type(results[21]).__name__ == "IntegrityError"
        async with db.transaction(write=False) as uow:
            stored = set(await uow.session.scalars(select(Team.name)))
            assert await uow.session.scalar(select(func.count()).select_from(Team)) == 20
        assert stored == set(names), "nothing of a failed work, everything of the others"
        await asyncio.sleep(0)
        assert sorted(e.name for e in heard if isinstance(e, Made)) == sorted(names)
        assert db.grouped.groups < db.grouped.works, "some works shared a transaction"
    finally:
        await db.dispose()
