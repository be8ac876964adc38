"""Batched task moves (routing.service.do_moves) on each database: the tasks that changed since
the decision are left alone, the others move in one write with every transition recorded."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from relais.core.bus import MemoryBus
from relais.core.clock import utcnow
from relais.core.db import Database
from relais.identity.models import Agent
from relais.routing.domain import TaskCommand
from relais.routing.models import Queue, Task, TaskEvent
from relais.routing.queues import RoutingRules
from relais.routing.service import Move, do_moves

Step = tuple[TaskCommand, dict[str, Any]]


async def test_moves_skip_what_changed_and_record_every_step(database_url: str) -> None:
    db = Database(database_url, MemoryBus())
    try:
        now = utcnow()
        async with db.transaction() as uow:
            s = uow.session
            queue = Queue(
                name="moves",
                channels=["chat"],
                team_ids=[],
                rules=RoutingRules().model_dump(mode="json"),
            )
            s.add(queue)
            s.add_all(
                Agent(id=f"a{i}", email=f"a{i}@moves.example", name=f"A{i}", password_hash="x")
                for i in range(3)
            )
            await s.flush()
            s.add_all(
                Task(id=f"t{i}", channel="chat", queue_id=queue.id, state="queued", version=1,
                     created_at=now, queued_at=now)
                for i in range(6)
            )  # fmt: skip

        async with db.transaction() as uow:
            tasks = {t.id: t for t in await uow.session.scalars(select(Task))}
        # Another writer takes t1 first: the batch must not overwrite it.
        async with db.transaction() as uow:
            await uow.session.execute(
                Task.__table__.update()  # type: ignore[attr-defined]
                .where(Task.id == "t1")
                .values(state="cancelled", version=2)
            )

        deadline = now + timedelta(seconds=30)

        def reserve(agent_id: str, until: datetime | None = deadline) -> Step:
            return ("reserve", {"agent_id": agent_id, "reserved_at": now, "deadline": until})

        moves = [
            Move(tasks["t0"], [reserve("a0")], 1),
            Move(tasks["t1"], [reserve("a1")], 1),  # taken meanwhile
            Move(tasks["t2"], [reserve("a1", None), ("accept", {"assigned_at": now})], 1),
            Move(tasks["t3"], [reserve("a2")], 1),
            Move(tasks["t4"], [("accept", {"assigned_at": now})], 1),  # queued can't be accepted
            Move(tasks["t5"], [("time_out", {})], 1),
        ]
        async with db.transaction() as uow:
            for move in moves:
                uow.session.add(move.task)
            moved = await do_moves(uow, moves, now=now)
        assert moved == {"t0", "t2", "t3", "t5"}

        async with db.transaction(write=False) as uow:
            rows = {t.id: t for t in await uow.session.scalars(select(Task))}
            events = (await uow.session.scalars(select(TaskEvent).order_by(TaskEvent.id))).all()
        assert (rows["t0"].state, rows["t0"].agent_id, rows["t0"].version) == ("reserved", "a0", 2)
        assert rows["t0"].deadline == deadline
        assert (rows["t1"].state, rows["t1"].agent_id, rows["t1"].version) == ("cancelled", None, 2)
        assert (rows["t2"].state, rows["t2"].agent_id, rows["t2"].version) == ("assigned", "a1", 3)
        assert rows["t2"].assigned_at == now and rows["t2"].deadline is None
        assert (rows["t3"].state, rows["t3"].agent_id) == ("reserved", "a2")
        assert (rows["t4"].state, rows["t4"].version) == ("queued", 1)
        assert (rows["t5"].state, rows["t5"].end_reason) == ("timed_out", "time_out")
        assert rows["t5"].ended_at == now
        recorded = [(e.task_id, e.command, e.from_state, e.to_state) for e in events]
        assert sorted(recorded) == sorted(
            [
                ("t0", "reserve", "queued", "reserved"),
                ("t2", "reserve", "queued", "reserved"),
                ("t2", "accept", "reserved", "assigned"),
                ("t3", "reserve", "queued", "reserved"),
                ("t5", "time_out", "queued", "timed_out"),
            ]
        )
        # The objects in memory agree with the rows, and are not dirty: nothing written twice.
        assert (tasks["t2"].state, tasks["t2"].version) == ("assigned", 3)
    finally:
        await db.dispose()
