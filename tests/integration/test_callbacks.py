"""Callbacks through the real server and the real ACD: asked now or in a slot, offered when the
slot opens, dialled, retried after no answer, completed; moved and cancelled by the visitor;
and hostile or abusive requests refused without changing anything.

Time: the routing engine's clock is the server's one injectable clock (the callback channel
reads it too); a test moves it forward to a slot's start instead of waiting for it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from relais.channels.callback.models import CallbackAttempt, CallbackRequest
from relais.routing.models import Task, TaskEvent
from tests.conftest import LiveServer, make_settings
from tests.helpers import Agent, Socket, Visitor, login, new_visitor, seed_agents

MOBILE = "+33612345678"
RETRY_S = 2


class MovableClock:
    """Real time plus an offset the test sets: the slot opens when the test says so."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def move_to(self, at: datetime) -> None:
        self.offset = max(self.offset, at.timestamp() - time.time())


@pytest.fixture
async def live(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[LiveServer, MovableClock]]:
    settings = make_settings(
        database_url,
        tmp_path,
        routing={"auto_accept": False, "reservation_timeout_s": 30},
        callback={
            "retry_delay_s": RETRY_S,
            "max_attempts": 3,
            "max_per_visitor_per_day": 3,
            "max_per_number_per_day": 3,
            "max_per_ip_per_hour": 6,
            "blocklist": ["+336987"],
        },
    )
    await seed_agents(settings)
    server = LiveServer(settings)
    await server.start()
    clock = MovableClock()
    server.runtime.leader.clock = clock
    try:
        yield server, clock
    finally:
        await server.stop()


def ask(number: str = MOBILE, **extra: Any) -> dict[str, Any]:
    return {"number": number, "reason": "My order 1234", "consent": True, **extra}


def offer_of(agent: Agent, task_id: str, after_version: int = 0) -> Any:
    return lambda f: (
        f["type"] == "task"
        and f["task"]["id"] == task_id
        and f["task"]["state"] == "reserved"
        and f["task"]["agent_id"] == agent.id
        and f["task"]["version"] > after_version
    )


async def available(server: LiveServer, email: str = "alice@test.example") -> tuple[Agent, Socket]:
    agent = await login(server.base, email)
    ws = await agent.ws()
    await agent.presence("available")
    return agent, ws


async def task_row(server: LiveServer, task_id: str) -> Task:
    async with server.runtime.db.transaction(write=False) as uow:
        task: Task | None = await uow.session.get(Task, task_id)
        assert task is not None
        return task


async def counts(server: LiveServer) -> tuple[int, int, int]:
    async with server.runtime.db.transaction(write=False) as uow:
        s = uow.session
        return (
            int(await s.scalar(select(func.count(CallbackRequest.id))) or 0),
            int(await s.scalar(select(func.count(Task.id))) or 0),
            int(await s.scalar(select(func.count(CallbackAttempt.id))) or 0),
        )


async def call(agent: Agent, callback_id: str, task_id: str, outcome: str) -> dict[str, Any]:
    """Accept the offer, dial (the tel: link), and record how the call went."""
    r = await agent.post(f"/api/v1/tasks/{task_id}/accept")
    assert r.status_code == 200, r.text
    r = await agent.post(f"/api/v1/callbacks/{callback_id}/dial")
    assert r.status_code == 200, r.text
    assert r.json()["call"] == f"tel:{MOBILE}"
    assert r.json()["callback"]["status"] == "calling"
    r = await agent.post(f"/api/v1/callbacks/{callback_id}/outcome", {"outcome": outcome})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_a_callback_now_is_offered_with_its_number_and_reason_and_reached_completes_it(
    live: tuple[LiveServer, MovableClock],
) -> None:
    server, _ = live
    alice, alice_ws = await available(server)
    visitor = await new_visitor(server.base, lang="fr")
    visitor_ws = await visitor.ws()
    r = await visitor.post(
        "/api/v1/callbacks",
        ask("06 12 34 56 78", region="FR", page_url=f"{server.base}/demo/shop/cart"),
    )
    assert r.status_code == 201, r.text
    callback = r.json()
    assert callback["number"] == MOBILE and callback["status"] == "waiting"
    assert callback["slot_start"] is None and callback["consent_at"]

    offer = (await alice_ws.wait_for(offer_of(alice, callback["task_id"])))["task"]
    assert offer["channel"] == "callback"
    assert offer["attributes"]["phone"] == MOBILE
    assert offer["attributes"]["reason"] == "My order 1234"
    assert offer["attributes"]["callback_id"] == callback["id"]
    assert offer["attributes"]["page_url"].endswith("/demo/shop/cart")
    # The agent who holds the offer may read the callback; before accepting it can't dial.
    assert (await alice.get(f"/api/v1/callbacks/{callback['id']}")).status_code == 200
    early = await alice.post(f"/api/v1/callbacks/{callback['id']}/dial")
    assert early.status_code == 409

    done = await call(alice, callback["id"], callback["task_id"], "reached")
    assert done["status"] == "done" and done["outcome"] == "reached"
    assert [(a["number"], a["outcome"]) for a in done["attempts"]] == [(1, "reached")]
    task = await task_row(server, callback["task_id"])
    assert (task.state, task.end_reason) == ("completed", "reached")
    frame = await visitor_ws.wait_for(
        lambda f: f["type"] == "callback" and f["callback"]["status"] == "done"
    )
    assert frame["callback"]["id"] == callback["id"]
    # Over: nothing more can be recorded, moved or cancelled.
    again = await alice.post(f"/api/v1/callbacks/{callback['id']}/outcome", {"outcome": "busy"})
    assert again.status_code == 409
    assert (await visitor.post(f"/api/v1/callbacks/{callback['id']}/cancel")).status_code == 409
    for closable in (alice_ws, visitor_ws, alice, visitor):
        await closable.close()


async def test_a_booked_slot_enters_the_queue_when_it_opens_no_answer_comes_back_after_the_delay(
    live: tuple[LiveServer, MovableClock],
) -> None:
    server, clock = live
    alice, alice_ws = await available(server)
    visitor = await new_visitor(server.base)
    visitor_ws = await visitor.ws()
    slots = (await visitor.get("/api/v1/callbacks/slots")).json()
    assert slots["open_now"] is True and slots["timezone"] == "UTC"
    slot = slots["slots"][0]
    r = await visitor.post("/api/v1/callbacks", ask(slot_start=slot["start"], slot_end=slot["end"]))
    assert r.status_code == 201, r.text
    callback = r.json()
    assert callback["status"] == "booked" and callback["slot_start"] == slot["start"]
    task = await task_row(server, callback["task_id"])
    assert task.state == "scheduled"
    assert task.not_before == datetime.fromisoformat(slot["start"])

    # Before its slot nobody is offered it, even with an agent free: nothing may come while
    # the engine steps (at least once a second).
    await asyncio.sleep(1.5)
    assert not [f for f in alice_ws.of_type("task") if f["task"]["id"] == task.id]
    clock.move_to(datetime.fromisoformat(slot["start"]) + timedelta(milliseconds=50))
    first = (await alice_ws.wait_for(offer_of(alice, task.id)))["task"]
    assert first["queued_at"] is not None

    retry = await call(alice, callback["id"], task.id, "no_answer")
    assert retry["status"] == "retry"
    assert [(a["number"], a["outcome"]) for a in retry["attempts"]] == [(1, "no_answer")]
    asked_at = clock()
    next_at = datetime.fromisoformat(retry["next_attempt_at"]).timestamp()
    assert next_at == pytest.approx(asked_at + RETRY_S, abs=1.0)
    assert (await task_row(server, task.id)).state == "scheduled"
    await visitor_ws.wait_for(
        lambda f: f["type"] == "callback" and f["callback"]["status"] == "retry"
    )

    # Back in the queue after the delay, not before: offered again to the free agent.
    second = (
        await alice_ws.wait_for(offer_of(alice, task.id, first["version"]), timeout=RETRY_S + 5)
    )["task"]
    assert clock() >= next_at
    assert second["attempts"] == 1

    done = await call(alice, callback["id"], task.id, "reached")
    assert done["status"] == "done" and done["outcome"] == "reached"
    assert [(a["number"], a["outcome"]) for a in done["attempts"]] == [
        (1, "no_answer"),
        (2, "reached"),
    ]
    async with server.runtime.db.transaction(write=False) as uow:
        rows = await uow.session.scalars(
            select(TaskEvent.command).where(TaskEvent.task_id == task.id).order_by(TaskEvent.id)
        )
        commands = list(rows.all())
    assert commands == [
        "create", "enqueue", "reserve", "accept", "retry_later",
        "enqueue", "reserve", "accept", "complete", "end_wrap_up",
    ]  # fmt: skip
    for closable in (alice_ws, visitor_ws, alice, visitor):
        await closable.close()


async def test_after_the_last_attempt_unanswered_the_callback_ends_unreachable(
    live: tuple[LiveServer, MovableClock],
) -> None:
    server, _ = live
    server.runtime.callbacks.policy = server.runtime.callbacks.policy.model_copy(
        update={"max_attempts": 2, "retry_delay_s": 0}
    )
    alice, alice_ws = await available(server)
    visitor = await new_visitor(server.base)
    callback = (await visitor.post("/api/v1/callbacks", ask())).json()
    first = (await alice_ws.wait_for(offer_of(alice, callback["task_id"])))["task"]
    assert (await call(alice, callback["id"], first["id"], "busy"))["status"] == "retry"
    await alice_ws.wait_for(offer_of(alice, first["id"], first["version"]))
    over = await call(alice, callback["id"], first["id"], "no_answer")
    assert over["status"] == "done" and over["outcome"] == "unreachable"
    assert over["max_attempts"] == 2 and len(over["attempts"]) == 2
    task = await task_row(server, first["id"])
    assert (task.state, task.end_reason) == ("completed", "unreachable")
    for closable in (alice_ws, alice, visitor):
        await closable.close()


async def test_a_wrong_number_is_not_called_again(live: tuple[LiveServer, MovableClock]) -> None:
    server, _ = live
    alice, alice_ws = await available(server)
    visitor = await new_visitor(server.base)
    callback = (await visitor.post("/api/v1/callbacks", ask())).json()
    await alice_ws.wait_for(offer_of(alice, callback["task_id"]))
    over = await call(alice, callback["id"], callback["task_id"], "wrong_number")
    assert (over["status"], over["outcome"]) == ("done", "wrong_number")
    for closable in (alice_ws, alice, visitor):
        await closable.close()


async def test_a_callback_moved_to_another_agent_while_called_gets_its_own_call(
    live: tuple[LiveServer, MovableClock],
) -> None:
    """A supervisor moves the task of a callback that one agent was calling to another: the
    first call is over, and the second agent's dial places a call of its own (an attempt of
    its own) instead of being handed the first agent's."""
    server, _ = live
    alice, alice_ws = await available(server)
    bruno = await login(server.base, "bruno@test.example")
    sam = await login(server.base, "sam@test.example")
    visitor = await new_visitor(server.base)
    callback = (await visitor.post("/api/v1/callbacks", ask())).json()
    cid, task_id = callback["id"], callback["task_id"]
    await alice_ws.wait_for(offer_of(alice, task_id))
    assert (await alice.post(f"/api/v1/tasks/{task_id}/accept")).status_code == 200
    assert (await alice.post(f"/api/v1/callbacks/{cid}/dial")).status_code == 200

    r = await sam.post(f"/api/v1/tasks/{task_id}/transfer", {"agent_id": bruno.id})
    assert r.status_code == 200, r.text
    r = await bruno.post(f"/api/v1/callbacks/{cid}/dial")
    assert r.status_code == 200, r.text
    attempts = r.json()["callback"]["attempts"]
    assert [(a["number"], a["agent_id"]) for a in attempts] == [(1, alice.id), (2, bruno.id)]
    assert attempts[0]["ended_at"] is not None and attempts[0]["outcome"] is None
    # Alice no longer holds it: she can neither dial nor record how a call went.
    assert (await alice.post(f"/api/v1/callbacks/{cid}/dial")).status_code == 404
    r = await alice.post(f"/api/v1/callbacks/{cid}/outcome", {"outcome": "reached"})
    assert r.status_code == 404
    done = await bruno.post(f"/api/v1/callbacks/{cid}/outcome", {"outcome": "reached"})
    assert done.status_code == 200, done.text
    attempts = done.json()["attempts"]
    assert [(a["agent_id"], a["outcome"]) for a in attempts] == [
        (alice.id, None),
        (bruno.id, "reached"),
    ]
    for closable in (alice_ws, alice, bruno, sam, visitor):
        await closable.close()


async def test_a_callback_whose_task_the_queue_ended_is_over_for_the_visitor(
    live: tuple[LiveServer, MovableClock],
) -> None:
    """The queue's last overflow step timed the task out: the visitor is told the callback is
    over, not that an agent is calling, and nothing changes."""
    server, _ = live
    visitor = await new_visitor(server.base)
    callback = (await visitor.post("/api/v1/callbacks", ask())).json()
    async with server.runtime.db.transaction() as uow:
        await uow.session.execute(
            update(Task)
            .where(Task.id == callback["task_id"])
            .values(state="timed_out", version=Task.version + 1)
        )
    assert (await visitor.get(f"/api/v1/callbacks/{callback['id']}")).json()[
        "status"
    ] == "cancelled"
    url = f"/api/v1/callbacks/{callback['id']}"
    cancel = await visitor.post(f"{url}/cancel")
    moved = await visitor.client.put(f"{url}/time", json={}, headers=visitor.headers())
    for r in (cancel, moved):
        assert r.status_code == 409 and r.json()["error"]["code"] == "callback_over", r.text
    assert (await task_row(server, callback["task_id"])).state == "timed_out"
    await visitor.close()


async def test_the_visitor_changes_the_time_then_cancels(
    live: tuple[LiveServer, MovableClock],
) -> None:
    server, _ = live
    visitor = await new_visitor(server.base)
    slots = (await visitor.get("/api/v1/callbacks/slots")).json()["slots"]
    first, second = slots[0], slots[1]
    callback = (
        await visitor.post(
            "/api/v1/callbacks", ask(slot_start=first["start"], slot_end=first["end"])
        )
    ).json()
    put = visitor.client.put
    url = f"/api/v1/callbacks/{callback['id']}/time"

    r = await put(url, json={"slot_start": second["start"], "slot_end": second["end"]},
                  headers=visitor.headers())  # fmt: skip
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["slot_start"]) == ("booked", second["start"])
    task = await task_row(server, callback["task_id"])
    assert task.state == "scheduled" and task.not_before == datetime.fromisoformat(second["start"])

    # As soon as possible (the queue is open): queued now.
    r = await put(url, json={}, headers=visitor.headers())
    assert r.status_code == 200 and r.json()["status"] == "waiting"
    assert (await task_row(server, callback["task_id"])).state == "queued"

    # Waiting in the queue, then a slot: that wait ends and a new task waits for the slot.
    r = await put(url, json={"slot_start": first["start"], "slot_end": first["end"]},
                  headers=visitor.headers())  # fmt: skip
    assert r.status_code == 200 and r.json()["status"] == "booked"
    moved = r.json()["task_id"]
    assert moved != callback["task_id"]
    assert (await task_row(server, callback["task_id"])).state == "cancelled"
    assert (await task_row(server, moved)).state == "scheduled"

    r = await visitor.post(f"/api/v1/callbacks/{callback['id']}/cancel")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert (await task_row(server, moved)).state == "cancelled"
    late = await put(url, json={"slot_start": second["start"], "slot_end": second["end"]},
                     headers=visitor.headers())  # fmt: skip
    assert late.status_code == 409
    mine = (await visitor.get("/api/v1/callbacks")).json()
    assert [(c["id"], c["status"]) for c in mine] == [(callback["id"], "cancelled")]
    await visitor.close()


async def test_a_closed_queue_refuses_now_and_offers_its_slots(
    live: tuple[LiveServer, MovableClock],
) -> None:
    server, _ = live
    sam = await login(server.base, "sam@test.example")
    [queue] = (await sam.get("/api/v1/queues")).json()
    today = datetime.now(UTC).date()
    body = {k: queue[k] for k in ("name", "channels", "team_ids", "overflow_team_ids", "rules")}
    body["hours"] = {
        "timezone": "Europe/Paris",
        "weekly": {
            day: ["09:00-18:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        },
        "exceptions": {today.isoformat(): [], (today + timedelta(days=1)).isoformat(): []},
    }
    assert (await sam.put(f"/api/v1/queues/{queue['id']}", body)).status_code == 200
    visitor = await new_visitor(server.base)
    slots = (await visitor.get("/api/v1/callbacks/slots")).json()
    assert slots["open_now"] is False and slots["timezone"] == "Europe/Paris"
    first = datetime.fromisoformat(slots["slots"][0]["start"])
    assert first.date() > today
    refused = await visitor.post("/api/v1/callbacks", ask())
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "queue_closed"
    assert await counts(server) == (0, 0, 0)
    booked = await visitor.post(
        "/api/v1/callbacks",
        ask(slot_start=slots["slots"][0]["start"], slot_end=slots["slots"][0]["end"]),
    )
    assert booked.status_code == 201, booked.text
    for closable in (sam, visitor):
        await closable.close()


async def test_hostile_requests_are_refused_and_change_nothing(
    live: tuple[LiveServer, MovableClock],
) -> None:
    server, _ = live
    alice, alice_ws = await available(server)
    bruno = await login(server.base, "bruno@test.example")
    owner = await new_visitor(server.base)
    callback = (await owner.post("/api/v1/callbacks", ask())).json()
    await alice_ws.wait_for(offer_of(alice, callback["task_id"]))
    before = await counts(server)
    task_before = await task_row(server, callback["task_id"])

    other = await new_visitor(server.base)
    slot = (await other.get("/api/v1/callbacks/slots")).json()["slots"][0]
    for body, code in [
        (ask("06 12"), "invalid_number"),
        (ask("not a number at all"), "invalid_number"),
        (ask("1" * 41), "invalid"),  # longer than any number: refused before parsing
        (ask("+33 8 99 12 34 56"), "number_refused"),  # premium rate
        (ask("+33 6 98 76 54 32"), "number_refused"),  # on the blocklist
        (ask("+81 3 1234 5678"), "country_not_allowed"),
        (ask(consent=False), "consent_required"),
        ({"number": MOBILE, "reason": "x"}, "invalid"),  # no consent at all
        (ask(reason="x" * 501), "invalid"),
        (ask(slot_start="2030-01-01T10:00:00"), "invalid"),  # no time zone
        (ask(slot_start=slot["start"]), "invalid_slot"),  # no end
        (ask(slot_start="2030-01-01T10:07:00Z", slot_end="2030-01-01T10:37:00Z"), "invalid_slot"),
        (ask(conversation_id="not-theirs"), "not_found"),
        (ask(region="France"), "invalid"),
        (ask(reason="a\x00b"), "invalid"),
        (ask(conversation_id="\x00"), "invalid"),
        (ask(page_title="\x1b[31m"), "invalid"),
        ({**ask(), "extra": 1}, "invalid"),
    ]:
        r = await other.post("/api/v1/callbacks", body)
        assert r.status_code in (404, 422), (body, r.text)
        assert r.json()["error"]["code"] == code, (body, r.text)

    # Another visitor's callback, another agent: as if it did not exist.
    cid = callback["id"]
    assert (await other.get(f"/api/v1/callbacks/{cid}")).status_code == 404
    assert (await other.post(f"/api/v1/callbacks/{cid}/cancel")).status_code == 404
    r = await other.client.put(f"/api/v1/callbacks/{cid}/time", json={}, headers=other.headers())
    assert r.status_code == 404
    assert (await other.get("/api/v1/callbacks")).json() == []
    for odd in ("%00", "x" * 200, "' OR 1=1 --"):
        assert (await other.get(f"/api/v1/callbacks/{odd}")).status_code == 404
    assert (await bruno.get(f"/api/v1/callbacks/{cid}")).status_code == 404
    r = await bruno.post(f"/api/v1/callbacks/{cid}/outcome", {"outcome": "reached"})
    assert r.status_code == 404
    assert (await bruno.post(f"/api/v1/callbacks/{cid}/dial")).status_code == 404
    # A visitor can't dial or record an outcome, an agent can't ask as a visitor.
    assert (await owner.post(f"/api/v1/callbacks/{cid}/dial")).status_code == 403
    r = await owner.post(f"/api/v1/callbacks/{cid}/outcome", {"outcome": "reached"})
    assert r.status_code == 403
    assert (await alice.post("/api/v1/callbacks", ask())).status_code == 403
    r = await alice.post(f"/api/v1/callbacks/{cid}/outcome", {"outcome": "hung up"})
    assert r.status_code == 422

    assert await counts(server) == before
    task = await task_row(server, callback["task_id"])
    assert (task.state, task.version) == (task_before.state, task_before.version)
    for closable in (alice_ws, alice, bruno, owner, other):
        await closable.close()


async def test_a_flood_is_refused_per_visitor_per_number_and_per_address(
    live: tuple[LiveServer, MovableClock],
) -> None:
    server, _ = live
    numbers = ["+33612345671", "+33612345672", "+33612345673", "+33612345674", "+33612345675"]

    async def refused(visitor: Visitor, number: str) -> str:
        r = await visitor.post("/api/v1/callbacks", ask(number))
        assert r.status_code == 429, r.text
        return str(r.json()["error"]["code"])

    flooder = await new_visitor(server.base)
    for number in numbers[:3]:
        assert (await flooder.post("/api/v1/callbacks", ask(number))).status_code == 201
    assert await refused(flooder, numbers[3]) == "too_many_requests"  # 3 a day per visitor

    # One number rung by several visitors: 3 a day per number.
    others = [await new_visitor(server.base) for _ in range(4)]
    for visitor in others[:2]:
        assert (await visitor.post("/api/v1/callbacks", ask(numbers[0]))).status_code == 201
    assert await refused(others[2], numbers[0]) == "too_many_requests"

    # All from one address: 6 an hour.
    assert (await others[2].post("/api/v1/callbacks", ask(numbers[4]))).status_code == 201
    assert await refused(others[3], "+33612345679") == "too_many_requests"
    assert await counts(server) == (6, 6, 0)
    for closable in (flooder, *others):
        await closable.close()


async def test_addresses_of_one_ipv6_network_count_as_one_address(
    live: tuple[LiveServer, MovableClock],
) -> None:
    """A subscriber holds a whole /64: counting single IPv6 addresses would let one client make
    2^64 "addresses" worth of requests. Behind a trusted proxy (the test's own address), the
    client's address comes from X-Forwarded-For."""
    server, _ = live
    visitors = [await new_visitor(server.base) for _ in range(4)]

    async def ask_from(visitor: Visitor, address: str, number: str) -> httpx.Response:
        headers = {**visitor.headers(), "X-Forwarded-For": address}
        return await visitor.client.post("/api/v1/callbacks", json=ask(number), headers=headers)

    made = 0
    for i in range(6):  # 6 an hour from one address: two visitors, three numbers each
        r = await ask_from(visitors[i // 3], f"2001:db8:1:2::{i + 1}", f"+3361234560{i}")
        assert r.status_code == 201, r.text
        made += 1
    refused = await ask_from(visitors[2], "2001:db8:1:2:ffff:ffff:ffff:ffff", "+33612345609")
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"]["code"] == "too_many_requests"
    # Another network is another address.
    r = await ask_from(visitors[3], "2001:db8:1:3::1", "+33612345608")
    assert r.status_code == 201, r.text
    assert await counts(server) == (made + 1, made + 1, 0)
    for visitor in visitors:
        await visitor.close()


def test_the_callbacks_api_is_in_the_openapi_schema(tmp_path: Path) -> None:
    from relais.app import create_app

    app = create_app(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", tmp_path))
    paths = app.openapi()["paths"]
    for path in (
        "/api/v1/callbacks",
        "/api/v1/callbacks/slots",
        "/api/v1/callbacks/{callback_id}",
        "/api/v1/callbacks/{callback_id}/time",
        "/api/v1/callbacks/{callback_id}/cancel",
        "/api/v1/callbacks/{callback_id}/dial",
        "/api/v1/callbacks/{callback_id}/outcome",
    ):
        assert path in paths, path


async def test_a_waiting_callback_hears_its_place_in_the_queue(
    live: tuple[LiveServer, MovableClock],
) -> None:
    server, _ = live
    visitors = [await new_visitor(server.base) for _ in range(2)]
    sockets = [await v.ws() for v in visitors]
    made: list[dict[str, Any]] = []
    for i, visitor in enumerate(visitors):
        r = await visitor.post("/api/v1/callbacks", ask(f"+3361234567{i}"))
        made.append(r.json())

    def place_of(task_id: str) -> Any:
        return lambda f: f["type"] == "queue_position" and f["task_id"] == task_id

    for n, (ws, callback) in enumerate(zip(sockets, made, strict=True)):
        frame = await ws.wait_for(place_of(callback["task_id"]))
        assert frame["position"] == n + 1 and frame["conversation_id"] is None
        # Only its own: the other visitor's place never reaches it.
        assert all(f["task_id"] == callback["task_id"] for f in ws.of_type("queue_position"))
    for ws in sockets:
        await ws.close()
    for visitor in visitors:
        await visitor.close()


def test_the_callback_event_crosses_the_bus_between_processes() -> None:
    from relais.app import decode_event
    from relais.channels.callback.events import CallbackChanged
    from relais.channels.callback.schemas import CallbackOut

    now = datetime.now(UTC)
    event = CallbackChanged(
        visitor_id="v1",
        callback=CallbackOut(
            id="c1",
            task_id="t1",
            status="retry",
            number=MOBILE,
            reason="",
            lang="en",
            consent_at=now,
            slot_start=None,
            slot_end=None,
            conversation_id=None,
            page_url=None,
            page_title=None,
            attempts=[],
            max_attempts=3,
            next_attempt_at=now,
            outcome=None,
            created_at=now,
            ended_at=None,
        ),
    )
    assert decode_event(event.model_dump_json()) == event
