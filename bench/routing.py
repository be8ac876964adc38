"""Routing decisions: the matcher alone, and decisions committed to the store.

    python bench/routing.py                       # the matcher table, then committed on SQLite
    python bench/routing.py --postgres URL        # committed decisions on PostgreSQL too
    python bench/routing.py --quick               # small sizes (a smoke run)

Matcher: agents with ~20 skill signatures (languages x products, with levels) and a backlog of
tasks with ~20 requirement signatures. Two kinds of decision, timed one by one:
- an agent frees a slot: ``best_task_for`` then ``assign`` (the steady state of a backlog);
- a task arrives while agents are idle: ``best_agent_for`` then ``assign``.
The floor, measured in the same run: one ``heappush`` + ``heappop`` on a heap of the same number
of tasks, the cost of the one heap operation a decision cannot avoid.

Committed: the real engine (``routing.engine``) decides and the real leader writes its
reservations (``RoutingLeader._write``: fenced by the lease, one conditional UPDATE, one recorded
transition and one event per task), in batches as the leader does; decisions per second.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import heapq
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import itertools

from relais.routing.matcher import Matcher

LANGS = ["fr", "en", "de", "es", "it"]
PRODUCTS = ["tv", "phone", "laptop", "billing"]


def agent_skills(rng: random.Random) -> dict[str, int]:
    return {f"lang:{rng.choice(LANGS)}": 3, f"product:{rng.choice(PRODUCTS)}": rng.choice([2, 4])}


def task_asks(rng: random.Random) -> dict[str, int]:
    return {f"lang:{rng.choice(LANGS)}": 1, f"product:{rng.choice(PRODUCTS)}": rng.choice([1, 3])}


def build(agents: int, tasks: int, rng: random.Random, *, capacity: int) -> Matcher:
    m = Matcher()
    for i in range(agents):
        m.add_agent(f"a{i}", {**agent_skills(rng), "queue:q": 2}, {"chat": capacity}, now=0.0)
        m.set_available(f"a{i}", True, float(i))
    for j in range(tasks):
        m.add_task(f"t{j}", "q", "chat", {**task_asks(rng), "queue:q": 2}, enqueued_at=float(j))
    return m


def percentile(values: list[int], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))] / 1000.0  # µs


def bench_frees(agents: int, tasks: int, decisions: int, seed: int) -> tuple[float, float, float]:
    """A backlog: agents each hold one chat; one frees, takes the next task it can."""
    rng = random.Random(seed)  # a benchmark's dice
    m = build(agents, tasks, rng, capacity=1)
    for i in range(agents):  # everyone busy: each decision starts with a release
        m.add_load(f"a{i}", "chat")
    times: list[int] = []
    made = 0
    next_task = tasks
    now = float(tasks)
    gc.disable()
    try:
        while made < decisions:
            agent = f"a{rng.randrange(agents)}"
            now += 1.0
            m.release_load(agent, "chat", now)
            start = time.perf_counter_ns()
            task = m.best_task_for(agent)
            if task is not None:
                m.assign(task, agent)
            times.append(time.perf_counter_ns() - start)
            made += 1
            if task is None:
                m.add_load(agent, "chat")
            else:  # keep the backlog's size
                m.add_task(f"t{next_task}", "q", "chat", {**task_asks(rng), "queue:q": 2},
                           enqueued_at=now)  # fmt: skip
                next_task += 1
    finally:
        gc.enable()
    total_s = sum(times) / 1e9
    return decisions / total_s, percentile(times, 0.5), percentile(times, 0.99)


def bench_arrivals(agents: int, decisions: int, seed: int) -> tuple[float, float, float]:
    """Idle agents: a task arrives, goes to the best agent, who frees again afterwards."""
    rng = random.Random(seed)  # a benchmark's dice
    m = build(agents, 0, rng, capacity=1)
    times: list[int] = []
    now = 0.0
    gc.disable()
    try:
        for j in range(decisions):
            now += 1.0
            m.add_task(f"n{j}", "q", "chat", {**task_asks(rng), "queue:q": 2}, enqueued_at=now)
            start = time.perf_counter_ns()
            agent = m.best_agent_for(f"n{j}")
            if agent is not None:
                m.assign(f"n{j}", agent)
            times.append(time.perf_counter_ns() - start)
            if agent is not None:
                m.release_load(agent, "chat", now)
            else:
                m.remove_task(f"n{j}")
    finally:
        gc.enable()
    total_s = sum(times) / 1e9
    return decisions / total_s, percentile(times, 0.5), percentile(times, 0.99)


def heap_floor(tasks: int, operations: int, seed: int) -> float:
    rng = random.Random(seed)  # a benchmark's dice
    heap = [(rng.random(), i) for i in range(tasks)]
    heapq.heapify(heap)
    start = time.perf_counter_ns()
    for i in range(operations):
        heapq.heappush(heap, (rng.random(), i))
        heapq.heappop(heap)
    return (time.perf_counter_ns() - start) / operations / 1000.0  # µs


def matcher_table(sizes_agents: list[int], sizes_tasks: list[int], decisions: int) -> None:
    print("Matcher alone (one core), per decision:")
    head = ["agents", "tasks", "frees/s", "p50 µs", "p99 µs", "arrivals/s", "p50 µs", "p99 µs"]
    print(" ".join(f"{h:>10}" for h in [*head, "heap op µs", "p50/heap"]))
    grid: dict[tuple[int, int], float] = {}
    for agents in sizes_agents:
        arrivals = bench_arrivals(agents, decisions, 2)
        for tasks in sizes_tasks:
            rate, p50, p99 = bench_frees(agents, tasks, decisions, 1)
            floor = heap_floor(tasks, decisions, 3)
            grid[(agents, tasks)] = p50
            row = [f"{agents}", f"{tasks}", f"{rate:,.0f}", f"{p50:.1f}", f"{p99:.1f}"]
            row += [f"{arrivals[0]:,.0f}", f"{arrivals[1]:.1f}", f"{arrivals[2]:.1f}"]
            row += [f"{floor:.2f}", f"{p50 / floor:.1f}"]
            print(" ".join(f"{c:>10}" for c in row))
    print("\nGrowth of the p50 decision cost per 10x more (log n would add a constant step):")
    for agents in sizes_agents:
        costs = [grid[(agents, t)] for t in sizes_tasks]
        steps = [f"{b / a:.2f}x" for a, b in itertools.pairwise(costs)]
        print(f"  {agents:>6} agents, tasks {sizes_tasks}: {' then '.join(steps)}")
    for tasks in sizes_tasks:
        costs = [grid[(a, tasks)] for a in sizes_agents]
        steps = [f"{b / a:.2f}x" for a, b in itertools.pairwise(costs)]
        print(f"  {tasks:>6} tasks, agents {sizes_agents}: {' then '.join(steps)}")


async def committed(url: str, agents: int, tasks: int, batch: int) -> tuple[float, float]:
    """Reservations decided by the engine and written by the leader; decisions/s and the
    mean batch size."""
    from sqlalchemy import delete, insert

    from relais.core.bus import MemoryBus
    from relais.core.clock import utcnow
    from relais.core.db import Database
    from relais.identity.models import Agent, AgentTeam, Team
    from relais.migrate import upgrade
    from relais.routing.engine import Engine
    from relais.routing.leader import RoutingLeader, task_snapshot
    from relais.routing.models import Queue, Task, TaskEvent
    from relais.routing.queues import QueueConfig, RoutingRules

    await asyncio.to_thread(upgrade, url)
    db = Database(url, MemoryBus())
    try:
        async with db.transaction() as uow:
            s = uow.session
            await s.execute(delete(TaskEvent))
            await s.execute(delete(Task))
            team = Team(name=f"bench-{time.time_ns()}")
            s.add(team)
            await s.flush()
            queue = Queue(name=f"bench-{time.time_ns()}", channels=["chat"], team_ids=[team.id],
                          rules=RoutingRules().model_dump(mode="json"))  # fmt: skip
            s.add(queue)
            await s.flush()
            stamp = time.time_ns()
            agent_rows = [
                {"id": f"b{stamp}{i}", "email": f"b{stamp}{i}@bench.example", "name": f"B{i}",
                 "password_hash": "x", "presence": "available", "max_chats": tasks, "capacity": {}}
                for i in range(agents)
            ]  # fmt: skip
            await s.execute(insert(Agent), agent_rows)
            await s.execute(
                insert(AgentTeam), [{"agent_id": a["id"], "team_id": team.id} for a in agent_rows]
            )
            now = utcnow()
            task_rows = [
                {"id": f"t{stamp}{j}", "channel": "chat", "queue_id": queue.id, "state": "queued",
                 "version": 1, "requirements": {}, "attributes": {}, "created_at": now,
                 "queued_at": now}
                for j in range(tasks)
            ]  # fmt: skip
            await s.execute(insert(Task), task_rows)
        leader = RoutingLeader(db, holder=f"bench-{stamp}", ttl_s=60)
        assert await leader.lease.acquire()
        engine = Engine()
        engine.set_queue(QueueConfig(queue.id, RoutingRules()))
        leader._queues = [(queue.id, {team.id}, set())]
        async with db.transaction(write=False) as uow:
            from sqlalchemy import select

            for row in (
                await uow.session.scalars(select(Agent).where(Agent.id.like(f"b{stamp}%")))
            ).all():
                engine.set_agent(await leader._agent_snapshot(uow.session, row), 0.0)
            for task in (
                await uow.session.scalars(select(Task).where(Task.queue_id == queue.id))
            ).all():
                engine.set_task(task_snapshot(task), 0.0)
        effects = engine.step(time.time())
        start = time.perf_counter()
        for i in range(0, len(effects), batch):
            await leader._write(engine, effects[i : i + batch], time.time())
        elapsed = time.perf_counter() - start
        await leader.lease.release()
        return len(effects) / elapsed, float(min(batch, len(effects)))
    finally:
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--decisions", type=int, default=20_000)
    parser.add_argument("--postgres", help="a PostgreSQL URL (postgresql+asyncpg://…) to write to")
    parser.add_argument("--batch", type=int, default=100, help="decisions per transaction")
    args = parser.parse_args()
    agents = [100, 1000] if args.quick else [100, 1_000, 10_000]
    tasks = [1000, 10_000] if args.quick else [1_000, 10_000, 100_000]
    matcher_table(agents, tasks, 2_000 if args.quick else args.decisions)

    n = 2_000 if args.quick else 10_000
    print(f"\nCommitted decisions ({n} reservations of a backlog, 100 agents, "
          f"{args.batch} per transaction, fenced by the lease):")  # fmt: skip
    targets = {"SQLite": 2_000, "PostgreSQL": 1_000}
    with tempfile.TemporaryDirectory() as tmp:
        urls = [("SQLite", f"sqlite+aiosqlite:///{tmp}/bench.db")]
        if args.postgres:
            urls.append(("PostgreSQL", args.postgres))
        for name, url in urls:
            rate, _ = asyncio.run(committed(url, 100, n, args.batch))
            verdict = "meets" if rate >= targets[name] else "below"
            target = f"{targets[name]:,}/s"
            print(f"  {name:<11} {rate:>9,.0f} decisions/s   ({verdict} the {target} target)")
    print(f"\n(one run each: rerun for the spread; Python {sys.version.split()[0]})")


if __name__ == "__main__":
    main()
