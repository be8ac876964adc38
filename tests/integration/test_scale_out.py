"""Several identical processes on one PostgreSQL and one Redis."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import httpx
import pytest

from relais.app import decode_event
from relais.conversations.events import Typing
from relais.conversations.schemas import ConversationRef
from relais.core.bus import Event, RedisBus
from tests.conftest import REDIS_URL, free_port, need
from tests.helpers import assigned, eventually, login, new_visitor, seed_agents


async def test_redis_bus_carries_typed_events_between_two_buses() -> None:
    need(REDIS_URL is not None, "RELAIS_TEST_REDIS_URL is not set (Redis)")
    assert REDIS_URL is not None
    one, two = RedisBus(REDIS_URL, decode_event), RedisBus(REDIS_URL, decode_event)
    received: list[Event] = []
    two.subscribe(received.append)
    await one.start()
    await two.start()
    try:
        event = Typing(
            ref=ConversationRef(id="c1", visitor_id="v1", team_id="t1", assignee_id=None),
            author_kind="visitor",
            author_name=None,
            typing=True,
        )
        await one.publish_many([event, event])

        async def both_arrived() -> None:
            assert received == [event, event]

        await eventually(both_arrived)
    finally:
        await one.stop()
        await two.stop()


def serve_process(
    url: str, port: int, public: str, tmp: Path, log: IO[bytes], **extra: str
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "RELAIS_DATABASE_URL": url,
        "RELAIS_REDIS_URL": REDIS_URL or "",
        "RELAIS_SECRET_KEY": "shared-secret-of-the-cluster-0123456789",
        "RELAIS_PUBLIC_URL": public,
        "RELAIS_WIDGET__ALLOWED_ORIGINS": f'["{public}"]',
        "RELAIS_ATTACHMENTS__DIRECTORY": str(tmp / "attachments"),
        "RELAIS_LOG_LEVEL": "warning",
        # The Redis rate limiter counts across test runs from one address.
        "RELAIS_RATE_LIMITS__ANONYMOUS_PER_MINUTE": "100000",
        **extra,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "relais", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def wait_up(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"server on {port} did not start")


@pytest.fixture
def two_processes(pg_database: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    from relais.config import Settings

    asyncio.run(seed_agents(Settings(database_url=pg_database)))
    # Both sit behind one public address in production; here each has its own port, and the
    # public URL (the origin the desk is served from) is the same for both.
    port_a, port_b = free_port(), free_port()
    public = f"http://127.0.0.1:{port_a}"
    with open(tmp_path / "a.log", "wb") as log_a, open(tmp_path / "b.log", "wb") as log_b:
        procs = [
            serve_process(pg_database, port_a, public, tmp_path, log_a),
            serve_process(pg_database, port_b, public, tmp_path, log_b),
        ]
        try:
            wait_up(port_a)
            wait_up(port_b)
            yield f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(10)


async def test_visitor_on_one_process_and_agent_on_another_chat_normally(
    two_processes: tuple[str, str],
) -> None:
    base_a, base_b = two_processes
    alice = await login(base_b, "alice@test.example")
    alice.base = base_b
    await alice.presence("available")
    agent_ws = await alice.ws_with_origin(base_a)
    visitor = await new_visitor(base_a)
    visitor_ws = await visitor.ws()

    ack = await visitor_ws.send_message(None, "hello from process A")
    conversation_id = ack["message"]["conversation_id"]
    await agent_ws.wait_for(
        lambda f: f["type"] == "message" and f["message"]["body"] == "hello from process A"
    )
    await visitor_ws.send({"type": "typing", "conversation_id": conversation_id, "typing": True})
    await agent_ws.wait_for(lambda f: f["type"] == "typing")
    # The ACD runs in one of the two; Alice accepts its offer, wherever it came from.
    offer = await agent_ws.wait_for(lambda f: f["type"] == "task" and f["command"] == "reserve")
    accepted = await alice.post(f"/api/v1/tasks/{offer['task']['id']}/accept")
    assert accepted.status_code == 200, accepted.text
    await assigned(alice, conversation_id, alice.id)
    reply = await agent_ws.send_message(conversation_id, "hello from process B")
    assert reply["ok"]
    await visitor_ws.wait_for(
        lambda f: f["type"] == "message" and f["message"]["body"] == "hello from process B"
    )
    for closable in (agent_ws, visitor_ws, alice, visitor):
        await closable.close()
