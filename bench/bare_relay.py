"""The floor for bench/chat_latency.py: a WebSocket relay that stores nothing.

A visitor connects to ``/?role=visitor&pair=I&agent=A``, an agent to ``/?role=agent&agent=A``.
Every visitor frame is forwarded as is (not even parsed) to its agent's connection; an agent frame
``{"to": I, ...}`` goes back to visitor I. ``GET /healthz`` answers 200, for the stall probe.
Whatever Relais spends above this per message is the price of storing, checking and fanning out.

    python bench/bare_relay.py --port 8766
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

MAX_FRAME_BYTES = 64 * 1024  # as Relais


class Relay:
    def __init__(self) -> None:
        self.agents: dict[str, ServerConnection] = {}
        self.visitors: dict[str, ServerConnection] = {}

    async def handle(self, ws: ServerConnection) -> None:
        query = parse_qs(urlsplit(ws.request.path if ws.request else "/").query)
        role = query.get("role", [""])[0]
        agent = query.get("agent", [""])[0]
        if role == "agent" and agent:
            await self._serve(ws, self.agents, agent, self._from_agent)
        elif role == "visitor" and agent and "pair" in query:

            async def to_agent(raw: str | bytes) -> None:
                await self._to(self.agents, agent, raw)

            await self._serve(ws, self.visitors, query["pair"][0], to_agent)
        else:
            await ws.close(4400, "role, agent and pair are required")

    async def _serve(
        self,
        ws: ServerConnection,
        index: dict[str, ServerConnection],
        key: str,
        forward: Callable[[str | bytes], Awaitable[None]],
    ) -> None:
        index[key] = ws
        try:
            async for raw in ws:
                await forward(raw)
        except ConnectionClosed:
            pass
        finally:
            if index.get(key) is ws:
                del index[key]

    async def _from_agent(self, raw: str | bytes) -> None:
        # Replies are rare: parsing them to find the visitor costs the floor nothing noticeable.
        to = json.loads(raw).get("to")
        await self._to(self.visitors, str(to), raw)

    @staticmethod
    async def _to(index: dict[str, ServerConnection], key: str, raw: str | bytes) -> None:
        peer = index.get(key)
        if peer is not None:
            # If the peer went away, the frame is lost: a relay without storage can do no better.
            with contextlib.suppress(ConnectionClosed):
                await peer.send(raw)


def _healthz(connection: ServerConnection, request: Request) -> Response | None:
    if request.path == "/healthz":
        return connection.respond(HTTPStatus.OK, "ok\n")
    return None


async def main(host: str, port: int) -> None:
    relay = Relay()
    async with serve(
        relay.handle,
        host,
        port,
        process_request=_healthz,
        max_size=MAX_FRAME_BYTES,
        ping_interval=20.0,  # as Relais's uvicorn settings
        ping_timeout=20.0,
        backlog=4096,
    ) as server:
        print(f"bare relay listening on {host}:{port}", file=sys.stderr, flush=True)
        await server.serve_forever()


def _run(host: str, port: int) -> None:
    try:
        import uvloop  # uvicorn runs Relais on uvloop when it is installed: the same loop here
    except ImportError:
        asyncio.run(main(host, port))
    else:
        uvloop.run(main(host, port))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()
    _run(args.host, args.port)
