"""The ACD through the real server: offers with a screen pop, accept, reject, lapse, moves by a
supervisor, and an engine rebuilt from the store after a restart."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from tests.conftest import LiveServer, make_settings
from tests.helpers import Agent, Socket, eventually, login, new_visitor


async def offers_required(server: LiveServer, **rules: Any) -> Agent:
    """The default queue with offers to accept and language routing; returns the supervisor."""
    sam = await login(server.base, "sam@test.example")
    [queue] = (await sam.get("/api/v1/queues")).json()
    body = {
        k: queue[k]
        for k in ("name", "channels", "team_ids", "overflow_team_ids", "sl_target_s", "sl_goal")
    }
    body["rules"] = {"route_by_language": True, "reservation_timeout_s": 30, **rules}
    r = await sam.put(f"/api/v1/queues/{queue['id']}", body)
    assert r.status_code == 200, r.text
    return sam


def offer_to(agent: Agent) -> Any:
    return lambda f: (
        f["type"] == "task"
        and f["task"]["state"] == "reserved"
        and f["task"]["agent_id"] == agent.id
    )


async def test_french_visitor_is_offered_to_the_french_agent_who_sees_the_screen_pop_and_accepts(
    server: LiveServer,
) -> None:
    sam = await offers_required(server)
    await sam.close()
    alice = await login(server.base, "alice@test.example")  # lang:fr
    bruno = await login(server.base, "bruno@test.example")  # lang:en
    for agent in (alice, bruno):
        await agent.presence("available")
    alice_ws, bruno_ws = await alice.ws(), await bruno.ws()
    visitor = await new_visitor(server.base, lang="fr")
    visitor_ws = await visitor.ws()
    await visitor_ws.send({"type": "page", "url": f"{server.base}/demo/shop/cart", "title": "Cart"})
    ack = await visitor_ws.send_message(None, "Bonjour, ma commande ?")
    conversation_id = ack["message"]["conversation_id"]

    offer = (await alice_ws.wait_for(offer_to(alice)))["task"]
    assert offer["conversation_id"] == conversation_id and offer["deadline"] is not None
    assert offer["attributes"]["language"] == "fr"
    assert not [f for f in bruno_ws.of_type("task") if f["task"]["id"] == offer["id"]]

    pop = (await alice.get(f"/api/v1/tasks/{offer['id']}/screen-pop")).json()
    assert pop["task"]["id"] == offer["id"]
    assert pop["context"]["visitor"]["lang"] == "fr"
    assert pop["context"]["current_page"]["title"] == "Cart"
    denied = await bruno.get(f"/api/v1/tasks/{offer['id']}/screen-pop")
    assert denied.status_code == 404, "another agent learns nothing of the offer"

    r = await alice.post(f"/api/v1/tasks/{offer['id']}/accept")
    assert r.status_code == 200 and r.json()["state"] == "assigned"
    await alice_ws.wait_for(
        lambda f: (
            f["type"] == "conversation"
            and f["conversation"]["id"] == conversation_id
            and f["conversation"]["assignee_id"] == alice.id
        )
    )
    await alice_ws.wait_for(
        lambda f: f["type"] == "message" and f["message"]["body"] == "Bonjour, ma commande ?"
    )
    again = await alice.post(f"/api/v1/tasks/{offer['id']}/accept")
    assert again.status_code == 409

    await alice.post(f"/api/v1/conversations/{conversation_id}/resolve")
    await alice_ws.wait_for(
        lambda f: (
            f["type"] == "task"
            and f["task"]["id"] == offer["id"]
            and f["task"]["state"] == "completed"
        )
    )
    for closable in (alice_ws, bruno_ws, visitor_ws, alice, bruno, visitor):
        await closable.close()


async def test_a_rejected_offer_goes_to_the_next_agent_and_a_lapsed_one_comes_back(
    server: LiveServer,
) -> None:
    sam = await offers_required(server, route_by_language=False, reservation_timeout_s=1)
    alice = await login(server.base, "alice@test.example")
    bruno = await login(server.base, "bruno@test.example")
    await alice.presence("available")
    alice_ws, sam_ws = await alice.ws(), await sam.ws()
    visitor = await new_visitor(server.base)
    visitor_ws = await visitor.ws()
    await visitor_ws.send_message(None, "hello")
    first = (await alice_ws.wait_for(offer_to(alice)))["task"]

    await bruno.presence("available")
    bruno_ws = await bruno.ws()
    r = await alice.post(f"/api/v1/tasks/{first['id']}/reject")
    assert r.status_code == 200 and r.json()["state"] == "queued"
    second = (await bruno_ws.wait_for(offer_to(bruno)))["task"]
    assert second["id"] == first["id"]
    # Bruno lets it lapse (1 s): it is offered again, and nobody ever holds it twice.
    await alice_ws.wait_for(
        lambda f: (
            f["type"] == "task"
            and f["command"] == "reserve"
            and f["task"]["agent_id"] == alice.id
            and f["task"]["version"] > second["version"]
        ),
        timeout=10,
    )
    moves = [f["task"] for f in sam_ws.of_type("task") if f["task"]["id"] == first["id"]]
    versions = [t["version"] for t in moves]
    assert versions == sorted(set(versions)), "each move seen once, in order"
    for before, after in itertools.pairwise(moves):
        if after["state"] == "reserved":
            assert before["state"] == "queued", "offered only once it is free again"
    for closable in (alice_ws, bruno_ws, sam_ws, visitor_ws, alice, bruno, sam, visitor):
        await closable.close()


async def test_a_supervisor_moves_a_waiting_task_to_an_agent_and_sets_presence(
    server: LiveServer,
) -> None:
    sam = await offers_required(server)
    visitor = await new_visitor(server.base, lang="fr")
    visitor_ws = await visitor.ws()
    ack = await visitor_ws.send_message(None, "anyone?")
    conversation_id = ack["message"]["conversation_id"]
    sam_ws = await sam.ws()

    async def queued() -> dict[str, Any]:
        tasks = (await sam.get("/api/v1/tasks?state=queued")).json()
        [task] = [t for t in tasks if t["conversation_id"] == conversation_id]
        return task  # type: ignore[no-any-return]

    task = await eventually(queued)
    bruno = await login(server.base, "bruno@test.example")
    r = await sam.post(f"/api/v1/tasks/{task['id']}/transfer", {"agent_id": bruno.id})
    assert r.status_code == 200 and r.json()["agent_id"] == bruno.id
    assert r.json()["state"] == "assigned"
    forbidden = await bruno.post(f"/api/v1/tasks/{task['id']}/transfer", {"agent_id": bruno.id})
    assert forbidden.status_code == 403

    r = await sam.put(f"/api/v1/agents/{bruno.id}/presence", {"presence": "away"})
    assert r.status_code == 200 and r.json()["presence"] == "away"
    await sam_ws.wait_for(lambda f: f["type"] == "presence" and f.get("agent_id") == bruno.id)
    for closable in (sam_ws, visitor_ws, sam, bruno, visitor):
        await closable.close()


async def test_waiting_tasks_survive_a_restart_and_are_routed_by_the_new_engine(
    sqlite_url: str, tmp_path: Path
) -> None:
    from tests.helpers import seed_agents

    settings = make_settings(sqlite_url, tmp_path)
    await seed_agents(settings)
    first = LiveServer(settings)
    await first.start()
    visitor = await new_visitor(first.base)
    visitor_ws = await visitor.ws()
    ack = await visitor_ws.send_message(None, "waiting through a restart")
    conversation_id = ack["message"]["conversation_id"]
    await visitor_ws.close()
    await first.stop()

    second = LiveServer(settings)
    await second.start()
    try:
        alice = await login(second.base, "alice@test.example")
        alice_ws: Socket = await alice.ws()
        await alice.presence("available")
        await alice_ws.wait_for(
            lambda f: (
                f["type"] == "conversation"
                and f["conversation"]["id"] == conversation_id
                and f["conversation"]["assignee_id"] == alice.id
            )
        )
        await alice_ws.close()
        await alice.close()
    finally:
        await visitor.close()
        await second.stop()


async def test_a_waiting_visitor_hears_its_place_in_the_queue(server: LiveServer) -> None:
    visitors = [await new_visitor(server.base) for _ in range(2)]
    sockets = [await v.ws() for v in visitors]
    for ws in sockets:
        await ws.send_message(None, "is anyone there?")
    for place, ws in enumerate(sockets, start=1):
        frame = await ws.wait_for(lambda f: f["type"] == "queue_position", timeout=10)
        assert frame["position"] == place and frame["estimated_wait_s"] is None
    for closable in (*sockets, *visitors):
        await closable.close()


async def test_the_wallboard_shows_waiting_then_answered(server: LiveServer) -> None:
    sam = await offers_required(server, route_by_language=False)
    bruno = await login(server.base, "bruno@test.example")
    forbidden = await bruno.get("/api/v1/wallboard")
    assert forbidden.status_code == 403, "supervisors only"

    async def board() -> dict[str, Any]:
        [queue] = (await sam.get("/api/v1/wallboard")).json()["queues"]
        return queue  # type: ignore[no-any-return]

    before = await board()
    visitor = await new_visitor(server.base)
    visitor_ws = await visitor.ws()
    assert (await visitor_ws.send_message(None, "waiting"))["ok"]

    async def waiting() -> None:
        now = await board()
        assert now["waiting"] == before["waiting"] + 1
        assert now["offered"] == before["offered"] + 1
        assert now["longest_wait_s"] is not None

    await eventually(waiting)
    await bruno.presence("available")
    bruno_ws = await bruno.ws()
    offer = (await bruno_ws.wait_for(offer_to(bruno)))["task"]
    assert (await bruno.post(f"/api/v1/tasks/{offer['id']}/accept")).status_code == 200
    after = await board()
    assert after["waiting"] == before["waiting"]
    assert after["answered"] == before["answered"] + 1
    assert after["service_level_today"] == 1.0 and after["asa_s"] is not None
    assert after["agents"]["busy"] >= 1
    assert after["intervals"] and sum(i["offered"] for i in after["intervals"]) == after["offered"]
    people = {a["name"]: a for a in (await sam.get("/api/v1/wallboard")).json()["agents"]}
    assert people["Bruno"]["tasks"] == 1 and people["Bruno"]["presence"] == "available"
    for closable in (bruno_ws, visitor_ws, sam, bruno, visitor):
        await closable.close()
