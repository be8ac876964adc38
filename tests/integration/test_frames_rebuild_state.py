"""Zulip's rule: applying the live frames to what a client knew gives what the store says now.

The desk builds its state only from frames; if an event were missing or incomplete, the state
rebuilt here would differ from the REST API's."""

from __future__ import annotations

import uuid
from typing import Any

from tests.conftest import LiveServer
from tests.helpers import login, new_visitor


def apply(frames: list[dict[str, Any]], state: dict[str, Any]) -> dict[str, Any]:
    """A client's reducer: conversations by id, and their messages by seq."""
    for frame in frames:
        if frame["type"] == "conversation":
            state["conversations"][frame["conversation"]["id"]] = frame["conversation"]
        elif frame["type"] == "message":
            message = frame["message"]
            state["messages"].setdefault(message["conversation_id"], {})[message["seq"]] = message
            conv = state["conversations"][message["conversation_id"]]
            conv["status"] = frame["conversation_status"]
            if message["author_kind"] in ("visitor", "agent"):  # authors have read what they wrote
                key = f"{message['author_kind']}_read_seq"
                conv[key] = max(conv[key], message["seq"])
        elif frame["type"] == "read":
            conv = state["conversations"][frame["conversation_id"]]
            conv[f"{frame['reader_kind']}_read_seq"] = frame["read_seq"]
    return state


async def test_frames_applied_to_stale_state_give_the_fresh_state(server: LiveServer) -> None:
    sam = await login(server.base, "sam@test.example")  # sees everything
    alice = await login(server.base, "alice@test.example")
    await alice.presence("available")
    desk = await sam.ws()
    await desk.wait_for(lambda f: f["type"] == "ready")

    visitors = [await new_visitor(server.base) for _ in range(3)]
    conversation_ids = []
    for i, visitor in enumerate(visitors):
        r = await visitor.post("/api/v1/conversations", {"client_id": "s", "body": f"hi {i}"})
        conversation_ids.append(r.json()["id"])
    for cid in conversation_ids:
        await alice.post(
            f"/api/v1/conversations/{cid}/messages",
            {"client_id": uuid.uuid4().hex, "body": "hello"},
        )
    await visitors[0].post(f"/api/v1/conversations/{conversation_ids[0]}/read", {"seq": 99})
    await alice.post(f"/api/v1/conversations/{conversation_ids[1]}/resolve")
    await visitors[1].post(f"/api/v1/conversations/{conversation_ids[1]}/rating", {"score": 5})
    marker = await sam.post(
        f"/api/v1/conversations/{conversation_ids[2]}/messages", {"client_id": "end", "body": "end"}
    )
    await desk.wait_for(
        lambda f: f["type"] == "message" and f["message"]["id"] == marker.json()["id"]
    )

    state = apply(desk.frames, {"conversations": {}, "messages": {}})
    for cid in conversation_ids:
        fresh = (await sam.client.get(f"/api/v1/conversations/{cid}")).json()
        rebuilt = state["conversations"][cid]
        for key in ("status", "assignee_id", "rating", "visitor_read_seq"):
            assert rebuilt[key] == fresh[key], (cid, key)
        messages = (await sam.client.get(f"/api/v1/conversations/{cid}/messages")).json()
        assert [state["messages"][cid][seq] for seq in sorted(state["messages"][cid])] == messages
    await desk.close()
    for who in (sam, alice, *visitors):
        await who.close()
