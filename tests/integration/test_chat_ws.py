"""Live chat over real WebSockets against a real server, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from relais.conversations.commands import post_message
from relais.core.bus import MemoryBus
from relais.core.db import Database
from relais.identity.principals import AgentPrincipal
from relais.routing.router import AcdRouter
from tests.conftest import LiveServer
from tests.helpers import Socket, assigned, eventually, login, new_visitor


async def test_visitor_and_agent_chat_both_ways_with_typing_and_read_receipts(
    server: LiveServer,
) -> None:
    alice = await login(server.base, "alice@test.example")
    await alice.presence("available")
    agent_ws = await alice.ws()
    visitor = await new_visitor(server.base)
    visitor_ws = await visitor.ws()
    ready = await visitor_ws.wait_for(lambda f: f["type"] == "ready")
    assert ready["seq"] == 0 and ready["agents_online"] is True

    ack = await visitor_ws.send_message(None, "Hello, my parcel is **late**")
    assert ack["ok"] is True
    message = ack["message"]
    conversation_id = message["conversation_id"]
    assert message["html"] == "<p>Hello, my parcel is <strong>late</strong></p>"

    got = await agent_ws.wait_for(
        lambda f: f["type"] == "message" and f["message"]["id"] == message["id"]
    )
    assert got["message"]["author_kind"] == "visitor"
    await agent_ws.wait_for(
        lambda f: f["type"] == "conversation" and f["conversation"]["assignee_id"] == alice.id
    )

    await visitor_ws.send({"type": "typing", "conversation_id": conversation_id, "typing": True})
    typing = await agent_ws.wait_for(lambda f: f["type"] == "typing")
    assert typing["author_kind"] == "visitor" and typing["typing"] is True

    await agent_ws.send({"type": "read", "conversation_id": conversation_id, "seq": message["seq"]})
    read = await visitor_ws.wait_for(lambda f: f["type"] == "read")
    assert read["reader_kind"] == "agent" and read["read_seq"] == message["seq"]

    reply = await agent_ws.send_message(conversation_id, "Let me check <b>now</b>")
    assert reply["ok"] is True
    seen = await visitor_ws.wait_for(
        lambda f: f["type"] == "message" and f["message"]["author_kind"] == "agent"
    )
    assert seen["message"]["author_name"] == "Alice"
    assert seen["message"]["html"] == "<p>Let me check &lt;b&gt;now&lt;/b&gt;</p>"

    seqs = [f["seq"] for f in visitor_ws.frames]
    assert seqs == list(range(len(seqs))), "server frames are numbered 0, 1, 2 … per connection"
    for sock in (agent_ws, visitor_ws):
        await sock.close()
    await alice.close()
    await visitor.close()


async def test_retried_send_with_the_same_client_id_gives_one_message(server: LiveServer) -> None:
    visitor = await new_visitor(server.base)
    ws = await visitor.ws()
    first = await ws.send_message(None, "once", client_id="c-1")
    second = await ws.send_message(first["message"]["conversation_id"], "once", client_id="c-1")
    assert first["message"]["id"] == second["message"]["id"]
    r = await visitor.get(f"/api/v1/conversations/{first['message']['conversation_id']}/messages")
    assert [m["body"] for m in r.json() if m["author_kind"] == "visitor"] == ["once"]
    await ws.close()
    await visitor.close()


async def test_the_sending_tab_gets_its_message_in_the_ack_and_the_other_tab_as_a_frame(
    server: LiveServer,
) -> None:
    visitor = await new_visitor(server.base)
    first_tab = await visitor.ws()
    started = await first_tab.send_message(None, "hello")
    conversation_id = started["message"]["conversation_id"]
    cursors = {conversation_id: started["message"]["seq"]}
    sending = await visitor.ws(cursors=cursors)
    other = await visitor.ws(cursors=cursors)
    for tab in (sending, other):
        await tab.wait_for(lambda f: f["type"] == "ready")

    ack = await sending.send_message(conversation_id, "from the second tab")
    sent = ack["message"]
    assert sent["body"] == "from the second tab"
    echo = await other.wait_for(lambda f: f["type"] == "message")
    assert echo["message"]["id"] == sent["id"]
    await sending.send_message(conversation_id, "a second one")  # after the first one's frames
    assert not [f for f in sending.frames if f["type"] == "message"], "no second copy"
    seqs = [f["seq"] for f in sending.frames]
    assert seqs == list(range(len(seqs))), "and no hole in the frame sequence"

    again = await visitor.ws(cursors=cursors)  # a tab that had not seen it gets it on resume
    replayed = await again.wait_for(lambda f: f["type"] == "message")
    assert replayed["message"]["id"] == sent["id"]
    for tab in (first_tab, sending, other, again):
        await tab.close()
    await visitor.close()


async def test_a_burst_of_sends_is_answered_once_each_and_the_excess_is_refused_as_busy(
    server: LiveServer,
) -> None:
    visitor = await new_visitor(server.base)
    ws = await visitor.ws()
    first = await ws.send_message(None, "start")
    conversation_id = first["message"]["conversation_id"]
    refs = [uuid.uuid4().hex for _ in range(300)]
    for i, ref in enumerate(refs):
        frame = {"type": "send", "ref": ref, "conversation_id": conversation_id}
        await ws.send({**frame, "client_id": f"burst-{i}", "body": f"burst {i}"})
    await ws.send({"type": "ping", "ref": "still-alive"})

    async def all_answered() -> list[dict[str, object]]:
        acks = [f for f in ws.of_type("ack") if f["ref"] in refs]
        assert len(acks) == len(refs)
        return acks

    acks = await eventually(all_answered, 30)
    assert ws.of_type("pong"), "pings are answered while sends wait"
    refused = [a for a in acks if not a["ok"]]
    assert all(a["error"]["code"] == "busy" for a in refused)  # type: ignore[index]
    r = await visitor.get(f"/api/v1/conversations/{conversation_id}/messages?limit=500")
    stored = [m["body"] for m in r.json() if m["body"].startswith("burst")]
    assert len(stored) == len(acks) - len(refused), "every accepted send stored, once"
    await ws.close()
    await visitor.close()


async def test_reconnect_with_cursors_replays_exactly_what_was_missed(server: LiveServer) -> None:
    alice = await login(server.base, "alice@test.example")
    await alice.presence("available")
    visitor = await new_visitor(server.base)
    ws = await visitor.ws()
    ack = await ws.send_message(None, "first")
    conversation_id = ack["message"]["conversation_id"]
    last_seen = ack["message"]["seq"]
    await ws.close()
    await assigned(alice, conversation_id, alice.id)

    # While the visitor is away, the agent answers twice.
    for text in ("answer one", "answer two"):
        r = await alice.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            {"client_id": uuid.uuid4().hex, "body": text},
        )
        assert r.status_code == 201, r.text

    ws = await visitor.ws(cursors={conversation_id: last_seen})
    await ws.wait_for(lambda f: f["type"] == "message" and f["message"]["body"] == "answer two")
    replayed = [f["message"]["body"] for f in ws.of_type("message")]
    # "Alice joined" may land while the visitor is away too (the ACD routes asynchronously).
    assert [b for b in replayed if b.startswith("answer")] == ["answer one", "answer two"]
    assert "first" not in replayed, "nothing the visitor had seen comes again"
    await ws.close()
    await alice.close()
    await visitor.close()


async def test_agent_resuming_hears_a_taken_conversation_ended_for_it_but_not_its_messages(
    server: LiveServer,
) -> None:
    """A desk that saw a conversation while it waited in the queue asks for it on resume; once
    a teammate holds it, the desk gets its new state, not its messages."""
    alice = await login(server.base, "alice@test.example")
    bruno = await login(server.base, "bruno@test.example")  # same team, away: no offers
    await alice.presence("available")
    visitor = await new_visitor(server.base)
    ws = await visitor.ws()
    ack = await ws.send_message(None, "private to whoever takes it")
    conversation_id = ack["message"]["conversation_id"]
    await assigned(alice, conversation_id, alice.id)
    r = await alice.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        {"client_id": uuid.uuid4().hex, "body": "Alice here"},
    )
    assert r.status_code == 201, r.text

    bruno_ws = await bruno.ws_with_cursors({conversation_id: 0})
    sync = await bruno_ws.wait_for(
        lambda f: f["type"] == "conversation" and f["conversation"]["id"] == conversation_id
    )
    assert sync["conversation"]["assignee_id"] == alice.id
    # Bruno's own presence change comes after anything the resume would have sent.
    await bruno.presence("away")
    await bruno_ws.wait_for(lambda f: f["type"] == "presence" and f["agent_id"] == bruno.id)
    assert not bruno_ws.of_type("message"), "nothing of it is owed to Bruno"
    for who in (ws, bruno_ws):
        await who.close()
    for client in (alice, bruno, visitor):
        await client.close()


async def test_visitor_cannot_read_or_write_another_visitors_conversation(
    server: LiveServer,
) -> None:
    owner, intruder = await new_visitor(server.base), await new_visitor(server.base)
    ws = await owner.ws()
    ack = await ws.send_message(None, "private")
    conversation_id = ack["message"]["conversation_id"]

    r = await intruder.get(f"/api/v1/conversations/{conversation_id}/messages")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "conversation_not_found"
    intruder_ws = await intruder.ws(cursors={conversation_id: 0})
    refused = await intruder_ws.send_message(conversation_id, "let me in")
    assert refused["ok"] is False and refused["error"]["code"] == "conversation_not_found"
    await intruder_ws.send({"type": "typing", "conversation_id": conversation_id, "typing": True})
    await intruder_ws.wait_for(lambda f: f["type"] == "error")
    assert not intruder_ws.of_type("message"), "replay must not leak another visitor's messages"
    r = await owner.get(f"/api/v1/conversations/{conversation_id}/messages")
    assert [m["body"] for m in r.json() if m["author_kind"] == "visitor"] == ["private"]
    await ws.close()
    await intruder_ws.close()
    await owner.close()
    await intruder.close()


async def test_bad_frames_get_clear_errors_and_change_nothing(server: LiveServer) -> None:
    visitor = await new_visitor(server.base)
    ws = await visitor.ws()
    await ws.wait_for(lambda f: f["type"] == "ready")
    await ws.send_raw("{not json")
    await ws.wait_for(lambda f: f["type"] == "error" and f["code"] == "malformed")
    await ws.send({"type": "launch_missiles"})
    await ws.wait_for(lambda f: f["type"] == "error" and f["code"] == "invalid_frame")
    await ws.send({"type": "send", "client_id": "x", "body": "hi", "extra": 1})
    assert len(ws.of_type("error")) >= 2
    big = await ws.send_message(None, "x" * 5000)
    assert big["ok"] is False and big["error"]["code"] == "message_too_long"
    await ws.send_raw("x" * (server.settings.chat.max_frame_bytes + 10))
    await eventually(_closed_or_error(ws))
    r = await visitor.get("/api/v1/conversations")
    assert r.json() == [], "nothing was created by refused frames"
    await ws.close()
    await visitor.close()


def _closed_or_error(ws: Socket) -> Callable[[], Awaitable[None]]:
    async def check() -> None:
        assert ws.closed.done() or any(f.get("code") == "frame_too_large" for f in ws.frames)

    return check


async def test_unknown_or_forged_tokens_are_refused_at_hello(server: LiveServer) -> None:
    url = server.ws_url
    for token in ("not-a-token", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."):
        sock = await Socket.open(url, {"type": "hello", "token": token}, {"Origin": server.base})
        code, _ = await sock.closed
        assert code == 4401
    sock = await Socket.open(url, {"type": "hello", "cursors": {}}, {"Origin": server.base})
    code, _ = await sock.closed
    assert code == 4401, "no cookie and no token: not authenticated"
    visitor = await new_visitor(server.base)
    sock = await Socket.open(
        url, {"type": "hello", "token": visitor.token}, {"Origin": "https://evil.example"}
    )
    code, _ = await sock.closed
    assert code == 4403
    await visitor.close()


async def test_heartbeat_carries_the_stores_latest_sequence(server: LiveServer) -> None:
    visitor = await new_visitor(server.base)
    ws = await visitor.ws()
    ack = await ws.send_message(None, "hello")
    conversation_id = ack["message"]["conversation_id"]
    # A message whose event was lost (written through a bus nobody listens to) shows up in the
    # next heartbeat, so the client knows to fetch it.
    lost_bus = Database(server.settings.database_url, MemoryBus())
    supervisor = AgentPrincipal("nobody", "Sam", "supervisor")
    lost, _ = await post_message(
        lost_bus,
        supervisor,
        conversation_id,
        client_id="lost",
        body="lost event",
        attachment_ids=[],
        max_chars=100,
        team_id="",
        assigner=AcdRouter(),  # not used: the conversation exists
    )
    await lost_bus.dispose()
    await server.runtime.gateway.beat()
    # A periodic heartbeat may have gone out before the lost message: the next one shows it.
    beat = await ws.wait_for(
        lambda f: f["type"] == "heartbeat" and f["cursors"].get(conversation_id) == lost.seq
    )
    assert beat["cursors"] == {conversation_id: lost.seq}
    assert lost.seq > ack["message"]["seq"]
    assert not [f for f in ws.of_type("message") if f["message"]["body"] == "lost event"]
    await ws.close()
    await visitor.close()


async def test_agent_socket_from_another_origin_is_refused(server: LiveServer) -> None:
    alice = await login(server.base, "alice@test.example")
    sock = await alice.ws_with_origin("https://evil.example")
    code, _ = await sock.closed
    assert code == 4403, "cross-site WebSocket hijacking is refused"
    await alice.close()


async def test_health_reports_connections_and_event_loop_stalls(sqlite_server: LiveServer) -> None:
    visitor = await new_visitor(sqlite_server.base)
    ws = await visitor.ws()
    await ws.wait_for(lambda f: f["type"] == "ready")
    health = (await visitor.client.get("/healthz")).json()
    assert health["status"] == "ok" and health["connections"] == 1
    assert health["loop_stall_max_ms"] >= 0
    await ws.close()

    async def gone() -> None:
        assert (await visitor.client.get("/healthz")).json()["connections"] == 0

    await eventually(gone)
    await visitor.close()


async def test_heartbeats_are_spread_over_the_period_each_connection_once(
    server: LiveServer,
) -> None:
    from relais.realtime.gateway import HEARTBEAT_SLICES

    gateway = server.runtime.gateway
    # This test beats every slice itself: the gateway's own clock would add beats of its own,
    # whenever its turn reaches the slices of these sockets.
    assert gateway._heartbeat_task is not None
    gateway._heartbeat_task.cancel()
    visitors = [await new_visitor(server.base) for _ in range(3)]
    sockets = [await v.ws() for v in visitors]
    for ws in sockets:
        await ws.wait_for(lambda f: f["type"] == "ready")
    by_visitor = {c.principal.id: c.beat_slot for c in gateway._visitors}
    slots = [by_visitor[v.id] for v in visitors]
    assert len(set(slots)) == 3, "consecutive connections beat in different slices"
    await gateway.beat(slots[0])
    await sockets[0].wait_for(lambda f: f["type"] == "heartbeat")
    for slot in range(HEARTBEAT_SLICES):  # the rest of the period
        if slot != slots[0]:
            await gateway.beat(slot)
    for ws in sockets[1:]:
        await ws.wait_for(lambda f: f["type"] == "heartbeat")
    await sockets[0].send({"type": "ping", "ref": "after"})
    await sockets[0].wait_for(lambda f: f["type"] == "pong")
    assert len(sockets[0].of_type("heartbeat")) == 1, "one heartbeat a period"
    for ws in sockets:
        await ws.close()
    for v in visitors:
        await v.close()

    async def forgotten() -> None:
        assert not any(gateway._by_slot), "a closed connection leaves its slice"

    await eventually(forgotten)


async def test_a_teammate_stops_following_a_conversation_another_agent_took(
    server: LiveServer,
) -> None:
    """The team sees a waiting conversation; once a colleague takes it, the others' desks
    drop it from their cursors, so heartbeats stay the size of each agent's own work."""
    alice = await login(server.base, "alice@test.example")
    bruno = await login(server.base, "bruno@test.example")
    sam = await login(server.base, "sam@test.example")
    sockets = {a.id: await a.ws() for a in (alice, bruno, sam)}
    for a in (alice, bruno):
        await a.presence("available")
    visitor = await new_visitor(server.base)
    ws = await visitor.ws()
    ack = await ws.send_message(None, "who takes this?")
    conversation_id = ack["message"]["conversation_id"]

    async def held() -> str:
        got = (await visitor.get(f"/api/v1/conversations/{conversation_id}")).json()
        assert got["assignee_id"] in (alice.id, bruno.id)
        return str(got["assignee_id"])

    holder = await eventually(held)
    other = bruno.id if holder == alice.id else alice.id
    await sockets[other].wait_for(
        lambda f: f["type"] == "conversation" and f["conversation"]["assignee_id"] == holder
    )
    # The periodic heartbeats may have gone out before the assignment: only later ones count.
    seen = {agent_id: len(sock.frames) for agent_id, sock in sockets.items()}
    await server.runtime.gateway.beat()
    beats = {
        agent_id: await sock.wait_for(lambda f: f["type"] == "heartbeat", after=seen[agent_id])
        for agent_id, sock in sockets.items()
    }
    assert conversation_id in beats[holder]["cursors"]
    assert conversation_id in beats[sam.id]["cursors"], "a supervisor follows everything"
    assert conversation_id not in beats[other]["cursors"]

    # It still reaches the holder, and never the colleague.
    await ws.send_message(conversation_id, "still there?")
    await sockets[holder].wait_for(
        lambda f: f["type"] == "message" and f["message"]["body"] == "still there?"
    )
    await sockets[sam.id].wait_for(
        lambda f: f["type"] == "message" and f["message"]["body"] == "still there?"
    )
    assert not [
        f for f in sockets[other].of_type("message") if f["message"]["body"] == "still there?"
    ]
    for sock in [*sockets.values(), ws]:
        await sock.close()
    for who in (alice, bruno, sam, visitor):
        await who.close()
