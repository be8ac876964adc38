"""Relais's side of the load: visitors and agents that speak docs/api.md, and their set-up.

Set-up goes through the public API: agents log in (cookie ``relais_session``) and make themselves
available; visitors open a session for a token. Anonymous endpoints are rate-limited per IP, so on
a loopback server the calls are spread over source addresses 127.0.0.2, 127.0.0.3, …
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

import httpx
from websockets.asyncio.client import ClientConnection

from _wsledger import Direction
from _wspeer import Context, Frame, Peer

T = TypeVar("T")
VISITORS_PER_ADDRESS = 50  # under the default 60 sessions a minute per IP
LOGINS_PER_ADDRESS = 8  # under the default 10 logins a minute per IP
RETRYABLE = frozenset({"busy"})  # the server asks for the same frame again later


@dataclass(frozen=True)
class Target:
    base: str  # http://host:port
    visitor_origin: str  # an allowed widget origin
    agent_origin: str  # the server's public URL

    @property
    def ws(self) -> str:
        return self.base.replace("http", "ws", 1) + "/ws"


class _RelaisPeer(Peer):
    kind = ""  # "visitor" or "agent": messages by the other kind are what it receives

    def __init__(self, ctx: Context, target: Target) -> None:
        super().__init__(ctx)
        self.target = target
        self.cursors: dict[str, int] = {}  # its conversations: the latest message seq seen
        self._frame_seq = 0
        self._behind: dict[str, int] = {}  # what the last heartbeat said we had not seen yet
        self._fetching = False
        self.me = ""  # its principal's id, from the ready frame
        self.mine: set[str] = set()  # an agent's: the conversations it holds

    def uri(self) -> str:
        return self.target.ws

    def auth(self) -> dict[str, str]:
        """Headers that authenticate it on the REST API."""
        return {}

    def on_message(self, message: Frame, now: float, *, fetched: bool = False) -> None:
        conversation, seq = message["conversation_id"], message["seq"]
        self.cursors[conversation] = max(self.cursors.get(conversation, 0), seq)
        if message["author_kind"] in (self.kind, "system"):
            return
        if fetched:
            self.ctx.fetched_ids.add(message["id"])
        elif message["id"] in self.ctx.fetched_ids:
            self.ctx.late_frames += 1  # its frame, after we fetched it: late, not twice
            return
        via = "rest" if fetched else "ws"
        self.ctx.ledger.received(message["client_id"], message["id"], now, via, id(self))
        self.answer(conversation)

    def answer(self, conversation_id: str) -> None:
        """A message from the other side arrived."""

    def on_frame(self, frame: Frame, now: float) -> None:
        if not self.in_sequence(frame):
            return
        kind = frame["type"]
        if kind == "message":
            self.on_message(frame["message"], now)
        elif kind == "conversation":
            conversation = frame["conversation"]
            if self.kind == "agent" and conversation["assignee_id"] not in (None, self.me):
                self.cursors.pop(conversation["id"], None)  # another agent's: the desk drops it
                self.mine.discard(conversation["id"])
            else:
                self.cursors.setdefault(conversation["id"], 0)
                if conversation["assignee_id"] == self.me:
                    self.mine.add(conversation["id"])
        elif kind == "ack":
            if frame["ok"]:
                self.acknowledged(frame["ref"])
                # The sending connection gets its own message here, not as a message frame.
                self.on_message(frame["message"], now)
                return
            code = frame["error"]["code"]
            self.ctx.errors[f"send_{code}"] += 1
            if code in RETRYABLE:
                self.ctx.spawn(self._resend(frame["ref"]))  # as the widget does, same client id
            else:
                self.acknowledged(frame["ref"])
        elif kind == "heartbeat":
            self.on_heartbeat(frame["cursors"])
        elif kind == "ready":
            self.me = frame["principal"]["id"]
            self._became_ready()
        elif kind == "error":
            self.ctx.errors[f"error_{frame['code']}"] += 1

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

    def on_heartbeat(self, latest: dict[str, int]) -> None:
        """The store is ahead of us. Frames may still be on their way, so only what is still
        missing one heartbeat later is fetched over REST, as docs/api.md asks of clients."""
        late = {c: s for c, s in self._behind.items() if self.cursors.get(c, 0) < s}
        self._behind = {c: s for c, s in latest.items() if s > self.cursors.get(c, 0)}
        if late and self.ctx.catch_up and not self._fetching:
            self._fetching = True
            self.ctx.spawn(self._catch_up(late))

    async def _catch_up(self, late: dict[str, int]) -> None:
        """Fetch up to what the earlier heartbeat announced, no further: what came after may
        well be on its way."""
        http = self.ctx.http
        try:
            for conversation, upto in late.items():
                after = self.cursors.get(conversation, 0)
                if after >= upto:
                    continue
                r = await http.get(
                    f"{self.target.base}/api/v1/conversations/{conversation}/messages",
                    params={"after": after, "limit": min(500, upto - after)},
                    headers=self.auth(),
                )
                r.raise_for_status()
                for message in r.json():
                    if message["seq"] > self.cursors.get(conversation, 0):
                        self.ctx.fetched += 1
                        self.on_message(message, time.monotonic(), fetched=True)
        except httpx.HTTPError as exc:
            self.ctx.errors[f"fetch_{type(exc).__name__}"] += 1
        finally:
            self._fetching = False

    async def _resend(self, client_id: str) -> None:
        await asyncio.sleep(self.ctx.rng.uniform(0.2, 1.0))
        self.resend(client_id)

    def _post(self, conversation_id: str | None, direction: Direction) -> None:
        cid = self.ctx.client_id()
        frame = {"type": "send", "ref": cid, "conversation_id": conversation_id}
        self.send(cid, {**frame, "client_id": cid, "body": self.ctx.body()}, direction)


class RelaisVisitor(_RelaisPeer):
    kind = "visitor"

    def __init__(self, ctx: Context, target: Target, token: str) -> None:
        super().__init__(ctx, target)
        self.token = token

    @property
    def conversation_id(self) -> str | None:
        return next(iter(self.cursors), None)  # one conversation per visitor here

    def origin(self) -> str | None:
        return self.target.visitor_origin

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Origin": self.target.visitor_origin}

    async def opened(self, ws: ClientConnection) -> None:
        await ws.send(_json({"type": "hello", "token": self.token, "cursors": self.cursors}))

    def send_message(self) -> None:
        self._post(self.conversation_id, "v2a")


class RelaisAgent(_RelaisPeer):
    kind = "agent"

    def __init__(self, ctx: Context, target: Target, session: str) -> None:
        super().__init__(ctx, target)
        self.session = session

    def origin(self) -> str | None:
        return self.target.agent_origin

    def headers(self) -> dict[str, str]:
        return {"Cookie": f"relais_session={self.session}"}

    def auth(self) -> dict[str, str]:
        return self.headers()

    async def opened(self, ws: ClientConnection) -> None:
        await ws.send(_json({"type": "hello", "cursors": dict(list(self.cursors.items())[:500])}))

    def answer(self, conversation_id: str) -> None:
        # Only in its own conversations: the team sees a waiting one, its holder answers.
        if conversation_id in self.mine and self.ctx.rng.random() < self.ctx.reply_ratio:
            self._post(conversation_id, "a2v")


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
