"""Reading a conversation is not answering it: a team's agent sees the chats waiting in the
queue, but only the agent who took the queue's offer answers, over REST and over the socket;
supervisors may step in anywhere."""

from __future__ import annotations

import uuid

from tests.conftest import LiveServer
from tests.helpers import assigned, login, new_visitor
from tests.integration.test_acd import offer_to, offers_required


async def test_only_the_agent_who_holds_a_conversation_answers_it(server: LiveServer) -> None:
    sam = await offers_required(server, route_by_language=False)
    alice = await login(server.base, "alice@test.example")
    bruno = await login(server.base, "bruno@test.example")  # same team as Alice, away
    await alice.presence("available")
    alice_ws, bruno_ws = await alice.ws(), await bruno.ws()
    visitor = await new_visitor(server.base)
    visitor_ws = await visitor.ws()
    ack = await visitor_ws.send_message(None, "anyone there?")
    conversation_id = ack["message"]["conversation_id"]
    offer = (await alice_ws.wait_for(offer_to(alice)))["task"]

    # Offered to Alice, not accepted: the team reads it, nobody answers it yet.
    for agent in (alice, bruno):
        r = await agent.get(f"/api/v1/conversations/{conversation_id}/messages")
        assert r.status_code == 200, "the team reads a waiting conversation"
        r = await agent.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            {"client_id": uuid.uuid4().hex, "body": "I'll take it"},
        )
        assert r.status_code == 403, r.text
        assert r.json()["error"]["code"] == "not_your_conversation"
    refused = await bruno_ws.send_message(conversation_id, "me too")
    assert refused["ok"] is False
    assert refused["error"]["code"] == "not_your_conversation"
    await bruno_ws.send({"type": "typing", "conversation_id": conversation_id, "typing": True})
    error = await bruno_ws.wait_for(lambda f: f["type"] == "error")
    assert error["code"] == "not_your_conversation", "nobody is shown typing who cannot answer"
    got = (await sam.get(f"/api/v1/conversations/{conversation_id}")).json()
    assert (got["last_seq"], got["status"], got["assignee_id"]) == (1, "open", None), (
        "nothing was stored and nothing changed"
    )

    # Alice accepts: she answers; Bruno, her teammate, still does not.
    assert (await alice.post(f"/api/v1/tasks/{offer['id']}/accept")).status_code == 200
    await assigned(sam, conversation_id, alice.id)
    answer = await alice_ws.send_message(conversation_id, "Hello, Alice here.")
    assert answer["ok"], answer
    refused = await bruno_ws.send_message(conversation_id, "and Bruno")
    assert refused["ok"] is False and refused["error"]["code"] == "not_your_conversation"
    # A supervisor steps in.
    r = await sam.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        {"client_id": uuid.uuid4().hex, "body": "Sam, supervisor: all good?"},
    )
    assert r.status_code == 201, r.text
    bodies = [
        m["body"]
        for m in (await visitor.get(f"/api/v1/conversations/{conversation_id}/messages")).json()
        if m["author_kind"] != "system"
    ]
    assert bodies == ["anyone there?", "Hello, Alice here.", "Sam, supervisor: all good?"]
    for closable in (alice_ws, bruno_ws, visitor_ws, alice, bruno, sam, visitor):
        await closable.close()
