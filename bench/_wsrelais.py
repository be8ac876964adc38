"""Relais's side of the load: visitors and agents that speak docs/api.md, and their set-up.

Set-up goes through the public API: agents log in (cookie ``relais_session``) and make themselves
available; visitors open a session for a token. Anonymous endpoints are rate-limited per IP, so on
a loopback server the calls are spread over source addresses 127.0.0.2, 127.0.0.3, …
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

import httpx
from websockets.asyncio.client import ClientConnection

from _wspeer import Context, Frame, Peer

T = TypeVar("T")
VISITORS_PER_ADDRESS = 50  # under the default 60 sessions a minute per IP
LOGINS_PER_ADDRESS = 8  # under the default 10 logins a minute per IP


@dataclass(frozen=True)
class Target:
    base: str  # http://host:port
    visitor_origin: str  # an allowed widget origin
    agent_origin: str  # the server's public URL

    @property
    def ws(self) -> str:
        return self.base.replace("http", "ws", 1) + "/ws"


class _RelaisPeer(Peer):
    def __init__(self, ctx: Context, target: Target) -> None:
        super().__init__(ctx)
        self.target = target
        self._frame_seq = 0

    def uri(self) -> str:
        return self.target.ws

    def in_sequence(self, frame: Frame) -> bool:
        """Server frames are numbered per connection: a gap means something was missed, and
        the protocol's answer is to reconnect with the cursors."""
        if frame["type"] == "ready":
            self._frame_seq = 0
            return True
        if frame.get("seq") != self._frame_seq + 1:
            self.ctx.seq_gaps += 1
            self.reconnect()
            return False
        self._frame_seq += 1
        return True

    def on_common(self, frame: Frame) -> None:
        kind = frame["type"]
        if kind == "ack":
            self.acknowledged(frame["ref"])
            if not frame["ok"]:
                self.ctx.errors[f"send_{frame['error']['code']}"] += 1
        elif kind == "ready":
            self._became_ready()
        elif kind == "error":
            self.ctx.errors[f"error_{frame['code']}"] += 1


class RelaisVisitor(_RelaisPeer):
    def __init__(self, ctx: Context, target: Target, token: str) -> None:
        super().__init__(ctx, target)
        self.token = token
        self.conversation_id: str | None = None
        self.cursor = 0  # latest message seq seen in its conversation

    def origin(self) -> str | None:
        return self.target.visitor_origin

    async def opened(self, ws: ClientConnection) -> None:
        cursors = {self.conversation_id: self.cursor} if self.conversation_id else {}
        await ws.send(_json({"type": "hello", "token": self.token, "cursors": cursors}))

    def send_message(self) -> None:
        cid = self.ctx.client_id()
        frame = {"type": "send", "ref": cid, "conversation_id": self.conversation_id}
        self.send(cid, {**frame, "client_id": cid, "body": self.ctx.body()}, "v2a")

    def on_frame(self, frame: Frame, now: float) -> None:
        if not self.in_sequence(frame):
            return
        if frame["type"] == "message":
            message = frame["message"]
            self.conversation_id = message["conversation_id"]
            self.cursor = max(self.cursor, message["seq"])
            if message["author_kind"] == "agent":
                self.ctx.ledger.received(message["client_id"], message["id"], now)
        else:
            if frame["type"] == "ack" and frame["ok"]:
                self.conversation_id = frame["message"]["conversation_id"]
            self.on_common(frame)


class RelaisAgent(_RelaisPeer):
    def __init__(self, ctx: Context, target: Target, session: str) -> None:
        super().__init__(ctx, target)
        self.session = session
        self.cursors: dict[str, int] = {}  # its conversations: latest message seq seen

    def origin(self) -> str | None:
        return self.target.agent_origin

    def headers(self) -> dict[str, str]:
        return {"Cookie": f"relais_session={self.session}"}

    async def opened(self, ws: ClientConnection) -> None:
        await ws.send(_json({"type": "hello", "cursors": dict(list(self.cursors.items())[:500])}))

    def on_frame(self, frame: Frame, now: float) -> None:
        if not self.in_sequence(frame):
            return
        kind = frame["type"]
        if kind == "message":
            message = frame["message"]
            conversation = message["conversation_id"]
            self.cursors[conversation] = max(self.cursors.get(conversation, 0), message["seq"])
            if message["author_kind"] == "visitor":
                self.ctx.ledger.received(message["client_id"], message["id"], now)
                if self.ctx.rng.random() < self.ctx.reply_ratio:
                    self._reply(conversation)
        elif kind == "conversation":
            self.cursors.setdefault(frame["conversation"]["id"], 0)
        else:
            self.on_common(frame)

    def _reply(self, conversation_id: str) -> None:
        cid = self.ctx.client_id()
        frame = {"type": "send", "ref": cid, "conversation_id": conversation_id}
        self.send(cid, {**frame, "client_id": cid, "body": self.ctx.body()}, "a2v")


def _json(frame: Frame) -> str:
    return json.dumps(frame, separators=(",", ":"))


# -- set-up over HTTP -------------------------------------------------------------------------


class Clients:
    """HTTP clients, one per source address when the server is on loopback."""

    def __init__(self, base: str, count: int) -> None:
        host = urlsplit(base).hostname or ""
        loopback = host == "localhost" or _is_loopback(host)
        self._clients = [
            httpx.AsyncClient(
                base_url=base,
                trust_env=False,
                timeout=60,
                transport=httpx.AsyncHTTPTransport(
                    local_address=f"127.0.0.{2 + i % 250}" if loopback else None
                ),
            )
            for i in range(max(1, count) if loopback else 1)
        ]

    def __getitem__(self, i: int) -> httpx.AsyncClient:
        return self._clients[i % len(self._clients)]

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def login_agents(
    target: Target, emails: list[str], password: str, concurrency: int = 8
) -> list[str]:
    """Session tokens of the agents, each made available (ready to be assigned)."""
    clients = Clients(target.base, -(-len(emails) // LOGINS_PER_ADDRESS))

    async def one(i: int) -> str:
        client = clients[i // LOGINS_PER_ADDRESS]
        r = await client.post("/api/v1/auth/login", json={"email": emails[i], "password": password})
        _check(r)
        session, csrf = r.cookies["relais_session"], r.cookies["relais_csrf"]
        r = await client.put(
            "/api/v1/agents/me/presence",
            json={"presence": "available", "reason": None},
            headers={"X-CSRF-Token": csrf},
            cookies={"relais_session": session, "relais_csrf": csrf},
        )
        _check(r)
        return session

    try:
        return await _bounded(len(emails), one, concurrency)
    finally:
        await clients.aclose()


async def visitor_tokens(target: Target, count: int, concurrency: int = 20) -> list[str]:
    clients = Clients(target.base, -(-count // VISITORS_PER_ADDRESS))

    async def one(i: int) -> str:
        r = await clients[i // VISITORS_PER_ADDRESS].post(
            "/api/v1/visitor/session",
            json={"token": None, "identity": None, "lang": "en"},
            headers={"Origin": target.visitor_origin},
        )
        _check(r)
        token: str = r.json()["token"]
        return token

    try:
        return await _bounded(count, one, concurrency)
    finally:
        await clients.aclose()


def _check(r: httpx.Response) -> None:
    if r.status_code >= 400:
        raise RuntimeError(f"{r.request.method} {r.request.url.path}: {r.status_code} {r.text}")


async def _bounded(count: int, job: Callable[[int], Awaitable[T]], concurrency: int) -> list[T]:
    """job(0) … job(count - 1), at most `concurrency` at a time, results in order."""
    gate = asyncio.Semaphore(concurrency)

    async def run(i: int) -> T:
        async with gate:
            return await job(i)

    return list(await asyncio.gather(*(run(i) for i in range(count))))
