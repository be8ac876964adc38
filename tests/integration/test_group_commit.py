"""Group commit on each database: works that arrive together share a transaction, and each
still gets exactly the outcome it would have had alone."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest
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


async def test_a_direct_transaction_is_one_transaction_for_direct_statements_and_the_session(
    database_url: str,
) -> None:
    # On SQLite a direct transaction runs on a connection of its own, and makes a session only
    # when a work asks for one: both must see each other's writes, commit together, and leave
    # nothing behind when the work fails.
    from relais.conversations.models import Conversation
    from relais.conversations.repository import _CONVERSATION_BY_ID
    from relais.conversations.service import _NEXT_SEQ
    from relais.core import fast_sql
    from relais.core.clock import utcnow

    db = Database(database_url, MemoryBus())
    try:
        async with db.transaction(direct=True) as uow:
            team = Team(name="direct")
            uow.session.add(team)
            await uow.session.flush()
            conversation = Conversation(team_id=team.id, status="open", channel="chat")
            uow.session.add(conversation)
            await uow.session.flush()
            params = {"p_id": conversation.id}
            seen = await fast_sql.fetch(uow, _CONVERSATION_BY_ID, params)
            assert seen and seen[0]["team_id"] == team.id, "the direct statement sees the ORM's"
            moved = {"p_id": conversation.id, "p_now": utcnow()}
            await fast_sql.fetch(uow, _NEXT_SEQ["visitor", False], moved)
            again = await uow.session.scalar(
                select(Conversation.last_seq).where(Conversation.id == conversation.id)
            )
            assert again == 1, "the session sees the direct statement's"

        async def fails(uow: UnitOfWork) -> None:
            uow.session.add(Team(name="never"))
            await uow.session.flush()
            await fast_sql.fetch(uow, _NEXT_SEQ["visitor", False], moved)
            raise Invalid("refused", code="refused")

        for _ in range(2):  # and the connection is usable again after a failure
            with pytest.raises(Invalid):
                await db.run(fails, direct=True)
        async with db.transaction(direct=True) as uow:  # no session at all: direct only
            await fast_sql.fetch(uow, _NEXT_SEQ["visitor", False], moved)
            assert uow.has_session == (not db.is_sqlite)

        other = Database(database_url, MemoryBus())  # another process's view
        try:
            async with other.transaction() as uow:
                names = set(await uow.session.scalars(select(Team.name)))
                stored = await uow.session.get(Conversation, conversation.id)
                assert names == {"direct"} and stored is not None and stored.last_seq == 2
                uow.session.add(Team(name="from-the-other"))  # the writer's lock was released
        finally:
            await other.dispose()
    finally:
        await db.dispose()


async def test_the_loop_runs_between_the_groups_of_a_backlog(database_url: str) -> None:
    # On SQLite nothing in a transaction waits, so a backlog of groups would run from the first
    # to the last without the loop writing the frames the first ones queued.
    from relais.core.group_commit import MAX_GROUP

    db = Database(database_url, MemoryBus())
    loop_ran: list[bool] = []
    seen_by_second_group: list[bool] = []

    def make(i: int) -> Callable[[UnitOfWork], Awaitable[int]]:
        async def work(uow: UnitOfWork) -> int:
            if i == 0:
                asyncio.get_running_loop().call_soon(loop_ran.append, True)
            if i == MAX_GROUP:
                seen_by_second_group.append(bool(loop_ran))
            return i

        return work

    try:
        results = await asyncio.gather(*(db.run_grouped(make(i)) for i in range(2 * MAX_GROUP)))
        assert results == list(range(2 * MAX_GROUP))
        assert seen_by_second_group == [True], "the loop ran before the second group"
    finally:
        await db.dispose()


async def test_a_group_stops_taking_works_after_its_time_budget(database_url: str) -> None:
    # Works that hold the loop (SQLite's run inline) must not make one transaction as long as
    # all of them: the group closes after GROUP_BUDGET_S and the rest go into the next ones.
    from relais.core.group_commit import GROUP_BUDGET_S

    db = Database(database_url, MemoryBus())
    each = GROUP_BUDGET_S * 0.4

    def make(i: int) -> Callable[[UnitOfWork], Awaitable[int]]:
        async def work(uow: UnitOfWork) -> int:
            time.sleep(each)  # noqa: ASYNC251 - busy, as an inline statement is
            uow.session.add(Team(name=f"budget-{i}"))
            return i

        return work

    try:
        results = await asyncio.gather(*(db.run_grouped(make(i)) for i in range(10)))
        assert results == list(range(10)), "each work, once, with its own result"
        # At most three works fit in a budget (the third crosses it): ten take four groups.
        assert db.grouped.groups >= 4 and db.grouped.works == 10
        async with db.transaction(write=False) as uow:
            assert await uow.session.scalar(select(func.count()).select_from(Team)) == 10
    finally:
        await db.dispose()
