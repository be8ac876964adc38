"""The wallboard's cost: reading the records and computing the board, for a day of traffic.

    python bench/wallboard.py                      # 1,000, 3,000 and 10,000 tasks on SQLite
    python bench/wallboard.py --tasks 5000         # one size
    python bench/wallboard.py --postgres URL       # on PostgreSQL too (an empty database)

A day of chats in three queues: each task is created and queued, offered (a tenth of offers
lapse and are offered again), answered, put in wrap-up and completed, or abandoned; a twentieth
moved to another queue; some still waiting or in hand. Twenty agents in two teams change
presence now and then. The board is computed as the endpoint computes it
(``supervision.endpoints.compute_wallboard``: one read transaction, then pure statistics), and
the two parts are timed apart. The best of five runs is printed with the median.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from sqlalchemy import insert

from relais.core.bus import MemoryBus
from relais.core.db import Database
from relais.identity.models import Agent, AgentStatusEvent, AgentTeam, Team
from relais.migrate import upgrade
from relais.routing.models import Queue, Task, TaskEvent
from relais.supervision.endpoints import compute_wallboard
from relais.supervision.figures import earliest_start, wallboard
from relais.supervision.repository import (
    load_agents,
    load_queues,
    load_statuses,
    load_transitions,
)


def _history(
    rng: random.Random, task_id: str, queue: str, other: str, start: datetime, agents: list[str]
) -> tuple[list[dict[str, Any]], str, str | None]:
    """One task's transitions, its last state and its holder."""
    rows: list[dict[str, Any]] = []
    at, state, agent = start, "queued", None

    def move(command: str, to: str, seconds: float, who: str | None = None) -> None:
        nonlocal at, state, agent
        at += timedelta(seconds=seconds)
        rows.append(
            {"task_id": task_id, "queue_id": queue, "channel": "chat", "agent_id": who,
             "command": command, "from_state": state, "to_state": to, "at": at}
        )  # fmt: skip
        state, agent = to, who

    rows.append(
        {"task_id": task_id, "queue_id": queue, "channel": "chat", "agent_id": None,
         "command": "create", "from_state": None, "to_state": "queued", "at": at}
    )  # fmt: skip
    if rng.random() < 0.15:
        move("abandon", "abandoned", rng.expovariate(1 / 40))
        return rows, state, None
    if rng.random() < 0.1:
        first = rng.choice(agents)
        move("reserve", "reserved", rng.expovariate(1 / 10), first)
        move("expire", "queued", 30)
    if rng.random() < 0.05:
        queue = other
        move("transfer", "queued", rng.expovariate(1 / 10))
    who = rng.choice(agents)
    move("reserve", "reserved", rng.expovariate(1 / 15), who)
    move("accept", "assigned", rng.uniform(1, 8), who)
    move("complete", "wrap_up", rng.expovariate(1 / 240), who)
    move("end_wrap_up", "completed", rng.uniform(5, 60), None)
    return rows, state, agent


async def seed(db: Database, tasks: int, now: datetime, seed_: int = 7) -> None:
    rng = random.Random(seed_)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    async with db.transaction() as uow:
        s = uow.session
        teams = [Team(name=f"Team {i}") for i in range(2)]
        s.add_all(teams)
        await s.flush()
        queues = [
            Queue(name=f"Queue {i}", channels=["chat"], team_ids=[teams[i % 2].id], rules={})
            for i in range(3)
        ]
        s.add_all(queues)
        agents = [
            Agent(email=f"a{i}@bench.example", name=f"Agent {i}", password_hash="-",  # noqa: S106
                  presence="available")
            for i in range(20)
        ]  # fmt: skip
        s.add_all(agents)
        await s.flush()
        s.add_all(AgentTeam(agent_id=a.id, team_id=teams[i % 2].id) for i, a in enumerate(agents))
        statuses: list[dict[str, Any]] = []
        for a in agents:
            at = day - timedelta(hours=1)
            while at < now:
                statuses.append({"agent_id": a.id, "status": "available", "at": at})
                at += timedelta(minutes=rng.uniform(30, 120))
                statuses.append({"agent_id": a.id, "status": "away", "at": at})
                at += timedelta(minutes=rng.uniform(2, 15))
        statuses = [r for r in statuses if r["at"] < now]
        await s.execute(insert(AgentStatusEvent), statuses)
        span = (now - day).total_seconds() - 600
        events: list[dict[str, Any]] = []
        task_rows: list[dict[str, Any]] = []
        ids = [a.id for a in agents]
        for n in range(tasks):
            q, other = rng.sample(queues, 2)
            start = day + timedelta(seconds=span * n / tasks)
            rows, state, holder = _history(rng, f"t{n:07d}", q.id, other.id, start, ids)
            rows = [r for r in rows if r["at"] < now]
            state = rows[-1]["to_state"]
            holder = rows[-1]["agent_id"]
            events += rows
            task_rows.append(
                {"id": f"t{n:07d}", "channel": "chat", "queue_id": rows[-1]["queue_id"],
                 "state": state, "version": len(rows), "agent_id": holder,
                 "created_at": start, "queued_at": start}
            )  # fmt: skip
        for i in range(0, len(task_rows), 2000):
            await s.execute(insert(Task), task_rows[i : i + 2000])
        for i in range(0, len(events), 5000):
            await s.execute(insert(TaskEvent), events[i : i + 5000])
        print(
            f"  seeded {tasks} tasks, {len(events)} transitions, {len(statuses)} presence changes"
        )


async def measure(url: str, tasks: int, runs: int = 5) -> None:
    db = Database(url, MemoryBus())
    now = datetime.now(UTC).replace(hour=18, minute=0, second=0, microsecond=0)
    try:
        await seed(db, tasks, now)
        totals, reads, computes = [], [], []
        for _ in range(runs):
            t0 = time.perf_counter()
            async with db.transaction(write=False) as uow:
                queues = await load_queues(uow.session)
                since = earliest_start(queues, now)
                agents = await load_agents(uow.session)
                transitions = await load_transitions(uow.session, since)
                statuses = await load_statuses(uow.session, since)
            t1 = time.perf_counter()
            board = wallboard(queues, agents, transitions, statuses, now)
            t2 = time.perf_counter()
            await compute_wallboard(db, now)
            t3 = time.perf_counter()
            reads.append(t1 - t0)
            computes.append(t2 - t1)
            totals.append(t3 - t2)
        print(
            f"  {tasks:>6} tasks ({len(transitions)} records): whole board "
            f"best {min(totals) * 1000:.0f} ms, median {statistics.median(totals) * 1000:.0f} ms"
            f" = read {min(reads) * 1000:.0f} ms + compute {min(computes) * 1000:.0f} ms"
            f" (best); all queues offered {board.all_queues.offered},"
            f" answered {board.all_queues.answered}"
        )
    finally:
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, action="append")
    parser.add_argument("--postgres", help="an empty PostgreSQL database URL (asyncpg)")
    args = parser.parse_args()
    sizes = args.tasks or [1000, 3000, 10000]
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{tmp}/bench.db"
            upgrade(url)
            print(f"SQLite, {size} tasks")
            asyncio.run(measure(url, size))
    if args.postgres:
        upgrade(args.postgres)
        for size in sizes:
            print(f"PostgreSQL, {size} tasks")
            asyncio.run(measure(args.postgres, size))


if __name__ == "__main__":
    main()
