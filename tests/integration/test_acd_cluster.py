"""The ACD with two processes on one PostgreSQL and one Redis: concurrent arrivals, accepts and
rejects, and the engine's process killed midway. No task is held by two agents, none is lost."""

from __future__ import annotations

import asyncio
import random
import signal
from pathlib import Path

from sqlalchemy import select

from relais.config import Settings
from relais.core.bus import MemoryBus
from relais.core.db import Database
from relais.routing.models import Lease, Task, TaskEvent
from tests.conftest import free_port
from tests.helpers import Agent, eventually, login, new_visitor, seed_agents
from tests.integration.test_scale_out import serve_process, wait_up

ROUTING = {
    "RELAIS_ROUTING__RESERVATION_TIMEOUT_S": "2",
    "RELAIS_ROUTING__LEASE_TTL_S": "2",
}


async def _leader_port(db: Database, ports: dict[str, int]) -> int:
    async def held() -> int:
        async with db.transaction(write=False) as uow:
            lease = await uow.session.scalar(select(Lease).where(Lease.name == "acd"))
        assert lease is not None
        [port] = [p for holder, p in ports.items() if lease.holder.startswith(holder)]
        return port

    return await eventually(held, 30)


async def _work_offers(agent: Agent, origin: str, stop: asyncio.Event, rng: random.Random) -> None:
    """Accept most offers, reject some, and resolve what was accepted."""
    ws = await agent.ws_with_origin(origin)  # the desk's page is served from the public URL
    seen = seen_presence = 0
    try:
        while not stop.is_set():
            # Put away after missed offers (rejections in a row): back to work, as people do.
            changes = ws.of_type("presence")[seen_presence:]
            seen_presence += len(changes)
            if any(f.get("agent_id") == agent.id and f["presence"] == "away" for f in changes):
                await agent.presence("available")
            frames = ws.of_type("task")[seen:]
            seen += len(frames)
            for frame in frames:
                task = frame["task"]
                if task["state"] != "reserved" or task["agent_id"] != agent.id:
                    continue
                if rng.random() < 0.3:
                    await agent.post(f"/api/v1/tasks/{task['id']}/reject")
                    continue
                r = await agent.post(f"/api/v1/tasks/{task['id']}/accept")
                if r.status_code == 200:
                    await agent.post(f"/api/v1/conversations/{task['conversation_id']}/resolve")
            await asyncio.sleep(0.05)
    finally:
        await ws.close()


async def test_no_task_double_assigned_or_lost_across_a_leader_kill(
    pg_database: str, tmp_path: Path
) -> None:
    await seed_agents(Settings(database_url=pg_database))
    ports = {"a": free_port(), "b": free_port()}
    public = f"http://127.0.0.1:{ports['a']}"
    db = Database(pg_database, MemoryBus())
    logs = [open(tmp_path / f"{n}.log", "wb") for n in ports]  # noqa: SIM115, ASYNC230  # closed below; set-up only
    procs = {
        name: serve_process(pg_database, port, public, tmp_path, log, **ROUTING)
        for (name, port), log in zip(ports.items(), logs, strict=True)
    }
    agents: list[Agent] = []
    try:
        for port in ports.values():
            wait_up(port)
        holders = await _holders(db, list(ports.values()))
        leader = await _leader_port(db, holders)
        survivor = next(p for p in ports.values() if p != leader)
        base = f"http://127.0.0.1:{survivor}"
        for email in ("alice@test.example", "bruno@test.example"):
            agent = await login(base, email)
            agent.base = base
            await agent.presence("available")
            agents.append(agent)
        stop = asyncio.Event()
        rng = random.Random(7)  # a test's dice
        workers = [asyncio.create_task(_work_offers(a, public, stop, rng)) for a in agents]

        async def arrive(port: int, n: int) -> str:
            visitor = await new_visitor(f"http://127.0.0.1:{port}", origin=public)
            try:
                r = await visitor.post(
                    "/api/v1/conversations", {"client_id": f"c{n}", "body": "hi"}
                )
            finally:
                await visitor.close()
            assert r.status_code in (200, 201), r.text
            return str(r.json()["id"])

        first = await asyncio.gather(*(arrive(list(ports.values())[n % 2], n) for n in range(20)))
        await asyncio.sleep(1.0)
        leader_name = next(n for n, p in ports.items() if p == leader)
        procs[leader_name].send_signal(signal.SIGKILL)
        await asyncio.to_thread(procs[leader_name].wait, 10)
        later = await asyncio.gather(*(arrive(survivor, n) for n in range(20, 40)))
        conversations = set(first) | set(later)

        async def all_done() -> None:
            async with db.transaction(write=False) as uow:
                tasks = (await uow.session.scalars(select(Task))).all()
            by_conversation = {t.conversation_id for t in tasks}
            assert conversations <= by_conversation, "every conversation has its task"
            live = [t for t in tasks if t.state not in ("completed", "cancelled")]
            assert not live, [(t.id, t.state) for t in live]

        await eventually(all_done, 90)
        stop.set()
        await asyncio.gather(*workers)

        async with db.transaction(write=False) as uow:
            events = (await uow.session.scalars(select(TaskEvent).order_by(TaskEvent.id))).all()
        holder: dict[str, str | None] = {}
        for event in events:
            if event.to_state == "reserved":
                assert holder.get(event.task_id) is None, f"{event.task_id} held twice"
                holder[event.task_id] = event.agent_id
            elif event.to_state in ("queued", "completed", "cancelled"):
                holder[event.task_id] = None
        accepted = [e for e in events if e.command == "accept"]
        assert len({e.task_id for e in accepted}) == len(accepted), "each task accepted once"
        assert len(accepted) == len(conversations)
    finally:
        for agent in agents:
            await agent.close()
        for proc in procs.values():
            if proc.poll() is None:
                proc.terminate()
                proc.wait(10)
        for log in logs:
            log.close()
        await db.dispose()


async def _holders(db: Database, ports: list[int]) -> dict[str, int]:
    """Lease holders are named host:pid:nonce; map each process's pid prefix to its port."""
    import socket

    import psutil

    mapping: dict[str, int] = {}
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmd = proc.info["cmdline"] or []
        for port in ports:
            if "serve" in cmd and str(port) in cmd:
                mapping[f"{socket.gethostname()}:{proc.info['pid']}:"] = port
    assert len(mapping) == len(ports), mapping
    return mapping
