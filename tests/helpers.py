"""Plain helpers for tests: create agents, log in, open a visitor, talk over a real WebSocket."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import websockets

from relais.config import Settings
from relais.core.bus import MemoryBus
from relais.core.db import Database
from relais.identity.service import do_create_agent, do_set_skills

PASSWORD = "correct horse battery"
T = TypeVar("T")


async def seed_agents(settings: Settings) -> None:
    db = Database(settings.database_url, MemoryBus())
    try:
        async with db.transaction() as uow:
            for email, name, role, teams, skills in [
                ("alice@test.example", "Alice", "agent", ["Support"], {"lang:fr": 3}),
                ("bruno@test.example", "Bruno", "agent", ["Support"], {"lang:en": 3}),
                ("olga@test.example", "Olga", "agent", ["Billing"], {}),
                ("sam@test.example", "Sam", "supervisor", [], {}),
            ]:
                agent = await do_create_agent(
                    uow.session,
                    email=email,
                    name=name,
                    password=PASSWORD,
                    role=role,
                    teams=teams,
                )
                await do_set_skills(uow.session, agent, skills)
    finally:
        await db.dispose()


async def eventually(check: Callable[[], Awaitable[T]], timeout: float = 5.0) -> T:
    """Wait for an asynchronous outcome: retry ``check`` until it stops raising AssertionError."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.02)


class Agent:
    def __init__(self, base: str, client: httpx.AsyncClient, csrf: str, info: dict[str, Any]):
        self.base, self.client, self.csrf, self.info = base, client, csrf, info

    @property
    def id(self) -> str:
        return str(self.info["id"])

    def headers(self) -> dict[str, str]:
        return {"X-CSRF-Token": self.csrf}

    async def post(self, path: str, body: Any = None) -> httpx.Response:
        return await self.client.post(path, json=body, headers=self.headers())

    async def put(self, path: str, body: Any = None) -> httpx.Response:
        return await self.client.put(path, json=body, headers=self.headers())

    async def get(self, path: str) -> httpx.Response:
        return await self.client.get(path)

    async def presence(self, presence: str) -> None:
        r = await self.client.put(
            "/api/v1/agents/me/presence", json={"presence": presence}, headers=self.headers()
        )
        assert r.status_code == 200, r.text

    async def ws(self) -> Socket:
        return await self.ws_with_origin(self.base)

    async def ws_with_origin(self, origin: str, cursors: dict[str, int] | None = None) -> Socket:
        """The desk's socket; ``origin`` is where the desk page was served from."""
        cookie = "; ".join(f"{k}={v}" for k, v in self.client.cookies.items())
        return await Socket.open(
            self.base.replace("http", "ws", 1) + "/ws",
            {"type": "hello", "cursors": cursors or {}},
            headers={"Cookie": cookie, "Origin": origin},
        )

    async def ws_with_cursors(self, cursors: dict[str, int]) -> Socket:
        return await self.ws_with_origin(self.base, cursors)

    async def close(self) -> None:
        await self.client.aclose()


async def login(base: str, email: str, password: str = PASSWORD) -> Agent:
    client = httpx.AsyncClient(base_url=base)
    r = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    body = r.json()
    return Agent(base, client, body["csrf_token"], body["agent"])


class Visitor:
    def __init__(self, base: str, client: httpx.AsyncClient, token: str, visitor_id: str):
        self.base, self.client, self.token, self.id = base, client, token, visitor_id
        self.origin = str(client.headers.get("Origin", base))  # the page the widget is on

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Origin": self.origin}

    async def post(self, path: str, body: Any = None) -> httpx.Response:
        return await self.client.post(path, json=body, headers=self.headers())

    async def get(self, path: str) -> httpx.Response:
        return await self.client.get(path, headers=self.headers())

    async def ws(self, cursors: dict[str, int] | None = None) -> Socket:
        return await Socket.open(
            self.base.replace("http", "ws", 1) + "/ws",
            {"type": "hello", "token": self.token, "cursors": cursors or {}},
            headers={"Origin": self.origin},
        )

    async def close(self) -> None:
        await self.client.aclose()


async def new_visitor(
    base: str, identity: str | None = None, lang: str = "en", origin: str | None = None
) -> Visitor:
    client = httpx.AsyncClient(base_url=base, headers={"Origin": origin or base})
    r = await client.post("/api/v1/visitor/session", json={"identity": identity, "lang": lang})
    assert r.status_code == 200, r.text
    body = r.json()
    return Visitor(base, client, body["token"], body["visitor_id"])


class Socket:
    """A real WebSocket client that collects frames and lets a test wait for one."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.frames: list[dict[str, Any]] = []
        self._reader = asyncio.create_task(self._read())
        self.closed: asyncio.Future[tuple[int | None, str | None]] = (
            asyncio.get_running_loop().create_future()
        )

    @classmethod
    async def open(cls, url: str, hello: dict[str, Any], headers: dict[str, str]) -> Socket:
        conn = await websockets.connect(url, additional_headers=headers)
        sock = cls(conn)
        await sock.send(hello)
        return sock

    async def _read(self) -> None:
        try:
            async for raw in self.conn:
                self.frames.append(json.loads(raw))
        except websockets.ConnectionClosed:
            pass
        finally:
            if not self.closed.done():
                self.closed.set_result((self.conn.close_code, self.conn.close_reason))

    async def send(self, frame: dict[str, Any]) -> None:
        await self.conn.send(json.dumps(frame))

    async def send_raw(self, raw: str | bytes) -> None:
        await self.conn.send(raw)

    async def wait_for(
        self,
        predicate: Callable[[dict[str, Any]], bool],
        timeout: float = 5.0,
        *,
        after: int = 0,
    ) -> dict[str, Any]:
        """The first frame that matches, among those received so far and from now on; ``after``
        skips the frames received before that count (``len(socket.frames)`` taken earlier)."""

        async def check() -> dict[str, Any]:
            for frame in self.frames[after:]:
                if predicate(frame):
                    return frame
            raise AssertionError(f"no such frame among {self.frames[-5:]}")

        return await eventually(check, timeout)

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [f for f in self.frames if f["type"] == kind]

    async def send_message(
        self, conversation_id: str | None, body: str, client_id: str | None = None
    ) -> dict[str, Any]:
        ref = uuid.uuid4().hex
        await self.send(
            {
                "type": "send",
                "ref": ref,
                "conversation_id": conversation_id,
                "client_id": client_id or uuid.uuid4().hex,
                "body": body,
            }
        )
        return await self.wait_for(lambda f: f["type"] == "ack" and f.get("ref") == ref)

    async def close(self) -> None:
        await self.conn.close()
        await self._reader


async def assigned(who: Any, conversation_id: str, agent_id: str | None) -> dict[str, Any]:
    """Wait until the ACD has given the conversation to ``agent_id`` (it routes asynchronously).
    ``who`` is an Agent or a Visitor of these helpers."""

    async def check() -> dict[str, Any]:
        got: dict[str, Any] = (await who.get(f"/api/v1/conversations/{conversation_id}")).json()
        assert got["assignee_id"] == agent_id, got
        return got

    return await eventually(check)
