"""A supervisor moves a task an agent holds to another queue: the conversation leaves that agent
at once and belongs to nobody until an agent of the other queue accepts it."""

from __future__ import annotations

from sqlalchemy import update

from relais.identity.models import Agent as AgentRow
from tests.conftest import LiveServer
from tests.helpers import assigned, login, new_visitor
from tests.integration.test_acd import offer_to, offers_required


async def test_a_transfer_to_another_queue_unassigns_the_conversation_until_the_next_accept(
    server: LiveServer,
) -> None:
    sam = await offers_required(server, route_by_language=False)
    alice = await login(server.base, "alice@test.example")  # Support
    olga = await login(server.base, "olga@test.example")  # Billing
    [billing_team] = olga.info["team_ids"]
    r = await sam.post(
        "/api/v1/queues",
        {"name": "Billing", "team_ids": [billing_team], "rules": {"reservation_timeout_s": 30}},
    )
    assert r.status_code == 201, r.text
    billing = r.json()["id"]
    await alice.presence("available")
    alice_ws = await alice.ws()
    visitor = await new_visitor(server.base)
    visitor_ws = await visitor.ws()
    conversation_id = (await visitor_ws.send_message(None, "my invoice?"))["message"][
        "conversation_id"
    ]
    offer = (await alice_ws.wait_for(offer_to(alice)))["task"]
    assert (await alice.post(f"/api/v1/tasks/{offer['id']}/accept")).status_code == 200
    await assigned(sam, conversation_id, alice.id)
    # Alice goes away so that the task cannot come back to her through the Support queue.
    await alice.presence("away")

    r = await sam.post(f"/api/v1/tasks/{offer['id']}/transfer", {"queue_id": billing})
    assert r.status_code == 200, r.text
    assert r.json()["queue_id"] == billing and r.json()["agent_id"] is None
    got = (await sam.get(f"/api/v1/conversations/{conversation_id}")).json()
    assert got["assignee_id"] is None, "the previous agent no longer holds the conversation"
    await alice_ws.wait_for(
        lambda f: (
            f["type"] == "conversation"
            and f["reason"] == "unassigned"
            and f["conversation"]["id"] == conversation_id
        )
    )

    await olga.presence("available")
    olga_ws = await olga.ws()
    second = (await olga_ws.wait_for(offer_to(olga)))["task"]
    assert second["id"] == offer["id"]
    got = (await sam.get(f"/api/v1/conversations/{conversation_id}")).json()
    assert got["assignee_id"] is None, "still nobody's while only offered"
    assert (await olga.post(f"/api/v1/tasks/{offer['id']}/accept")).status_code == 200
    await assigned(sam, conversation_id, olga.id)
    for closable in (alice_ws, olga_ws, visitor_ws, alice, olga, sam, visitor):
        await closable.close()


async def test_a_task_is_not_handed_to_an_agent_who_was_deactivated(server: LiveServer) -> None:
    """A deactivated agent can no longer log in: a task given to them would wait forever on a
    desk nobody opens. The transfer is refused as if the agent did not exist, and the task
    stays where it was."""
    sam = await offers_required(server, route_by_language=False)
    bruno = await login(server.base, "bruno@test.example")
    visitor = await new_visitor(server.base)
    visitor_ws = await visitor.ws()
    await visitor_ws.send_message(None, "hello?")
    [task] = (await sam.get("/api/v1/tasks")).json()
    async with server.runtime.db.transaction() as uow:
        await uow.session.execute(
            update(AgentRow).where(AgentRow.id == bruno.id).values(active=False)
        )
    r = await sam.post(f"/api/v1/tasks/{task['id']}/transfer", {"agent_id": bruno.id})
    assert r.status_code == 404, r.text
    [after] = (await sam.get("/api/v1/tasks")).json()
    assert (after["state"], after["agent_id"], after["version"]) == (
        task["state"],
        task["agent_id"],
        task["version"],
    )
    for closable in (visitor_ws, visitor, bruno, sam):
        await closable.close()
