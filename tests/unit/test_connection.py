"""A connection's outbox: sequence numbers, de-duplication while resuming, and back-pressure."""

from __future__ import annotations

import asyncio
import json

from relais.identity.principals import VisitorPrincipal
from relais.realtime.connection import TOO_SLOW, Connection


class FakeSocket:
    """Records what the connection writes (the real socket is exercised by integration tests)."""

    def __init__(self, block: bool = False) -> None:
        self.sent: list[dict[str, object]] = []
        self.closed_with: int | None = None
        self.gate = asyncio.Event()
        if not block:
            self.gate.set()

    async def send_text(self, data: str) -> None:
        await self.gate.wait()
        self.sent.append(json.loads(data))

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        self.closed_with = code


def _message(seq: int) -> str:
    return json.dumps({"type": "message", "message": {"seq": seq}})


async def test_frames_are_numbered_and_replay_overlap_is_delivered_once() -> None:
    sock = FakeSocket()
    conn = Connection(sock, VisitorPrincipal("v"), max_outbox=100)
    conn.send_ready('{"type":"ready"}')
    conn.push(_message(3), conversation_id="c", message_seq=3)  # live, during replay: held
    for seq in (1, 2, 3):
        await conn.replay(_message(seq), "c", seq)  # replay from the store
    await conn.release()
    conn.push(_message(4), conversation_id="c", message_seq=4)
    conn.close()
    await conn.write_loop()
    assert [f["seq"] for f in sock.sent] == [0, 1, 2, 3, 4]
    assert [f["message"]["seq"] for f in sock.sent[1:]] == [1, 2, 3, 4]  # type: ignore[index]


async def test_a_slow_client_is_disconnected_instead_of_growing_memory() -> None:
    sock = FakeSocket(block=True)
    conn = Connection(sock, VisitorPrincipal("v"), max_outbox=10)
    await conn.release()
    writer = asyncio.create_task(conn.write_loop())
    for i in range(1, 100):
        conn.push(_message(i), conversation_id="c", message_seq=i)
    assert conn.closed and conn.too_slow
    sock.gate.set()
    await asyncio.wait_for(writer, 5)
    assert sock.closed_with == TOO_SLOW
    seqs = [f["seq"] for f in sock.sent]
    assert seqs == list(range(1, len(seqs) + 1)), "what was sent has no hole"
    assert len(seqs) <= 11


async def test_a_resume_longer_than_the_outbox_waits_for_room_instead_of_closing() -> None:
    sock = FakeSocket()
    conn = Connection(sock, VisitorPrincipal("v"), max_outbox=10)
    writer = asyncio.create_task(conn.write_loop())
    for seq in range(1, 101):
        await conn.replay(_message(seq), "c", seq)
    await conn.release()
    conn.close()
    await asyncio.wait_for(writer, 5)
    assert not conn.too_slow
    assert [f["message"]["seq"] for f in sock.sent] == list(range(1, 101))  # type: ignore[index]


async def test_live_frames_held_during_a_long_resume_wait_for_room_too() -> None:
    sock = FakeSocket()
    conn = Connection(sock, VisitorPrincipal("v"), max_outbox=5)
    writer = asyncio.create_task(conn.write_loop())
    for seq in range(1, 51):
        conn.push(_message(seq), conversation_id="c", message_seq=seq)  # live, held
    await conn.release()
    conn.close()
    await asyncio.wait_for(writer, 5)
    assert not conn.too_slow
    assert [f["message"]["seq"] for f in sock.sent] == list(range(1, 51))  # type: ignore[index]
