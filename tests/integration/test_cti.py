"""CTI for integrators against a real HTTP receiver: the CRM link in the screen pop, and the
signed webhook of each task offered, accepted and completed; a receiver that is down or
answers 500 gets the event later, once; no secret in logs or in the API."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select

from relais.core.bus import MemoryBus
from relais.core.clock import utcnow
from relais.core.db import Database
from relais.identity.tokens import issue_site_identity
from relais.integrations.models import WebhookCursor, WebhookDelivery
from relais.integrations.signing import InvalidSignature, decode_secret, verify
from relais.integrations.webhooks import Backoff, WebhookMessage, WebhookSender
from relais.routing.models import Queue, Task, TaskEvent
from tests.conftest import LiveServer, free_port, make_settings
from tests.helpers import eventually, login, new_visitor, seed_agents
from tests.integration.receiver import Receiver
from tests.integration.test_acd import offer_to, offers_required

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
TEMPLATE = "https://crm.example.com/contacts/{external_id}?task={task_id}"
FALLBACK = "https://crm.example.com/search?conversation={conversation_id}"


@asynccontextmanager
async def cti_server(
    database_url: str, tmp_path: Path, receiver: Receiver
) -> AsyncIterator[LiveServer]:
    settings = make_settings(
        database_url,
        tmp_path,
        cti={
            "pop_url_template": TEMPLATE,
            "pop_url_fallback_template": FALLBACK,
            "open_on_accept": True,
            "webhook_url": receiver.url,
            "webhook_secret": SECRET,
            "webhook_poll_s": 0.2,
            "webhook_retry_base_s": 0.2,
        },
    )
    live = LiveServer(settings)
    await seed_agents(settings)
    await live.start()
    try:
        await _cursor_written(live.runtime.db)
        yield live
    finally:
        await live.stop()


async def test_offered_accepted_completed_arrive_signed_with_the_screen_pop_and_the_crm_link(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    receiver = Receiver(free_port())
    receiver.start()
    try:
        async with cti_server(database_url, tmp_path, receiver) as server:
            sam = await offers_required(server, route_by_language=False)
            alice = await login(server.base, "alice@test.example")
            await alice.presence("available")
            alice_ws = await alice.ws()
            key = server.settings.widget.identity_keys["shop-key"]
            identity = issue_site_identity(key, "shop-key", "cust/42 é", name="Zoé")
            visitor = await new_visitor(server.base, identity=identity)
            visitor_ws = await visitor.ws()
            ack = await visitor_ws.send_message(None, "where is my parcel?")
            conversation_id = ack["message"]["conversation_id"]
            offer = (await alice_ws.wait_for(offer_to(alice)))["task"]

            pop = (await alice.get(f"/api/v1/tasks/{offer['id']}/screen-pop")).json()
            expected = f"https://crm.example.com/contacts/cust%2F42%20%C3%A9?task={offer['id']}"
            assert pop["crm_url"] == expected, "every value percent-encoded whole"
            assert pop["crm_open_on_accept"] is True

            assert (await alice.post(f"/api/v1/tasks/{offer['id']}/accept")).status_code == 200
            await alice.post(f"/api/v1/conversations/{conversation_id}/resolve")

            async def three() -> list[Any]:
                got = receiver.delivered()
                assert len(got) == 3, [r.body[:80] for r in got]
                return got

            got = await eventually(three, timeout=15)
            messages = []
            for request in got:
                assert request.path == "/hooks/relais"
                verify(SECRET, request.headers, request.body, now=time.time())
                messages.append(WebhookMessage.model_validate_json(request.body))
            by_type = {m.type: m for m in messages}
            assert set(by_type) == {"task.offered", "task.accepted", "task.completed"}
            assert len({m.event_id for m in messages}) == 3
            assert all(m.version == 1 and m.task_id == offer["id"] for m in messages)
            assert by_type["task.offered"].agent_id == alice.id
            assert by_type["task.offered"].occurred_at <= by_type["task.accepted"].occurred_at
            accepted = by_type["task.accepted"].data
            assert accepted.crm_url == expected
            assert accepted.context is not None and accepted.context.contact is not None
            assert accepted.context.contact.external_id == "cust/42 é"
            assert got[0].headers["webhook-id"] == messages[0].event_id

            # A tampered body, another secret or an old timestamp is refused.
            first = got[0]
            with pytest.raises(InvalidSignature):
                verify(SECRET, first.headers, first.body + b" ", now=time.time())
            with pytest.raises(InvalidSignature):
                other = "whsec_" + "QUJD" * 8
                verify(other, first.headers, first.body, now=time.time())
            with pytest.raises(InvalidSignature):
                verify(SECRET, first.headers, first.body, now=time.time() + 3600)

            # The secret is nowhere the API or the logs can show it.
            openapi = (await sam.get("/api/v1/openapi.json")).text
            assert SECRET not in openapi and SECRET[6:] not in openapi
            assert SECRET not in caplog.text and SECRET[6:] not in caplog.text
            assert SECRET not in repr(server.settings) and SECRET not in repr(
                server.app.state.webhooks
            )
            for closable in (alice_ws, visitor_ws, alice, sam, visitor):
                await closable.close()
    finally:
        receiver.stop()


async def test_an_anonymous_visitor_gets_the_fallback_link(
    database_url: str, tmp_path: Path
) -> None:
    receiver = Receiver(free_port())
    receiver.start()
    try:
        async with cti_server(database_url, tmp_path, receiver) as server:
            sam = await offers_required(server, route_by_language=False)
            bruno = await login(server.base, "bruno@test.example")
            await bruno.presence("available")
            bruno_ws = await bruno.ws()
            visitor = await new_visitor(server.base)
            visitor_ws = await visitor.ws()
            ack = await visitor_ws.send_message(None, "hello")
            offer = (await bruno_ws.wait_for(offer_to(bruno)))["task"]
            pop = (await bruno.get(f"/api/v1/tasks/{offer['id']}/screen-pop")).json()
            conversation_id = ack["message"]["conversation_id"]
            assert (
                pop["crm_url"] == f"https://crm.example.com/search?conversation={conversation_id}"
            )
            for closable in (bruno_ws, visitor_ws, bruno, visitor, sam):
                await closable.close()
    finally:
        receiver.stop()


# -- delivery, against a receiver that fails -----------------------------------------------------


async def _task_moves(db: Database, task_id: str, states: list[str]) -> None:
    async with db.transaction() as uow:
        queue = await uow.session.scalar(select(Queue).where(Queue.name == "Hooks"))
        if queue is None:
            queue = Queue(name="Hooks", channels=["chat"], team_ids=[], rules={})
            uow.session.add(queue)
            await uow.session.flush()
        uow.session.add(Task(id=task_id, channel="chat", queue_id=queue.id, state=states[-1]))
        before = None
        for state in states:
            await uow.session.execute(
                insert(TaskEvent).values(
                    task_id=task_id, queue_id=queue.id, channel="chat", command=state,
                    from_state=before, to_state=state, at=utcnow(),
                )
            )  # fmt: skip
            before = state


def _sender(db: Database, url: str, **overrides: Any) -> WebhookSender:
    values: dict[str, Any] = {
        "url": url, "key": decode_secret(SECRET), "holder": "test", "timeout_s": 2.0,
        "events": ["task.offered", "task.accepted", "task.completed"], "templates": [],
        "backoff": Backoff(0.2, 1.0), "max_attempts": 20, "poll_s": 0.1, "lease_ttl_s": 5.0,
    }  # fmt: skip
    values.update(overrides)
    return WebhookSender(db, **values)


async def _deliveries(db: Database) -> list[WebhookDelivery]:
    async with db.transaction(write=False) as uow:
        return list((await uow.session.scalars(select(WebhookDelivery))).all())


async def _cursor_written(db: Database) -> None:
    """The sender starts from the record's end: wait for its cursor before any task moves."""

    async def cursor() -> None:
        async with db.transaction(write=False) as uow:
            assert await uow.session.get(WebhookCursor, "cti") is not None

    await eventually(cursor)


@asynccontextmanager
async def _sending(
    database_url: str, receiver: Receiver, holders: tuple[str, ...] = ("test",), **overrides: Any
) -> AsyncIterator[Database]:
    """Senders (one per holder: processes sharing the database) POSTing to ``receiver``, their
    cursor written; all stopped afterwards, the receiver too."""
    db = Database(database_url, MemoryBus())
    senders = [_sender(db, receiver.url, holder=holder, **overrides) for holder in holders]
    try:
        for sender in senders:
            await sender.start()
        await _cursor_written(db)
        yield db
    finally:
        for sender in senders:
            await sender.stop()
        await db.dispose()
        receiver.stop()


async def test_a_receiver_answering_500_then_down_gets_the_event_once_when_it_is_back(
    database_url: str,
) -> None:
    receiver = Receiver(free_port(), status=500)
    receiver.start()
    async with _sending(database_url, receiver) as db:
        await _task_moves(db, "t-500", ["queued", "reserved"])

        async def retried() -> WebhookDelivery:
            rows = await _deliveries(db)
            assert len(rows) == 1
            row = rows[0]
            assert row.attempts >= 3 and row.last_status == 500 and row.state == "pending"
            # An attempt counts when it is claimed, just before its POST: wait for the third.
            assert len([r for r in receiver.requests if r.headers["webhook-id"] == row.id]) >= 3
            return row

        row = await eventually(retried, timeout=10)
        attempts = [r for r in receiver.requests if r.headers["webhook-id"] == row.id]
        assert len(attempts) >= 3 and {r.body for r in attempts} == {row.body.encode()}
        # Back-off of 0.2 s doubling, half of it jitter: at least 0.1 s, then at least 0.2 s.
        gaps = [b.at - a.at for a, b in itertools.pairwise(attempts)]
        assert gaps[0] >= 0.09 and gaps[1] >= 0.19, gaps
        assert row.next_attempt_at > utcnow() - timedelta(seconds=1), "waits before trying again"

        receiver.stop()  # down: connections refused

        async def refused() -> None:
            [row] = await _deliveries(db)
            assert row.last_error == "ConnectError" and row.last_status is None

        await eventually(refused, timeout=10)
        receiver.status = 200
        receiver.start()  # back on the same port

        async def delivered() -> None:
            [row] = await _deliveries(db)
            assert row.state == "delivered"

        await eventually(delivered, timeout=10)
        ok = [r for r in receiver.delivered() if r.headers["webhook-id"] == row.id]
        assert len(ok) == 1, "delivered once"
        verify(SECRET, ok[0].headers, ok[0].body, now=time.time())


async def test_after_the_last_attempt_a_delivery_is_marked_failed_and_left_alone(
    database_url: str,
) -> None:
    receiver = Receiver(free_port(), status=500)
    receiver.start()
    async with _sending(database_url, receiver, max_attempts=2, backoff=Backoff(0.05, 0.1)) as db:
        await _task_moves(db, "t-fail", ["queued", "reserved", "assigned"])

        async def failed() -> list[WebhookDelivery]:
            rows = await _deliveries(db)
            assert len(rows) == 2 and all(r.state == "failed" for r in rows), rows
            return rows

        rows = await eventually(failed, timeout=10)
        assert all(r.attempts == 2 and r.failed_at is not None for r in rows)
        sent = len(receiver.requests)
        await _task_moves(db, "t-later", ["queued"])  # wakes nothing to send
        assert len(receiver.requests) == sent == 4


# -- delivery bounded, whoever holds the lease ---------------------------------------------------


async def test_two_processes_send_a_slow_failing_delivery_no_more_than_the_attempts_allowed(
    database_url: str,
) -> None:
    """Each answer takes longer than the lease lives, so the lease changes hands while a POST is
    in flight: every attempt must still count, the other process must not send the same
    delivery again at once, and the delivery must end failed after the last attempt."""
    receiver = Receiver(free_port(), status=500, delay_s=0.6)
    receiver.start()
    async with _sending(
        database_url,
        receiver,
        ("one", "two"),
        lease_ttl_s=0.3,
        poll_s=0.05,
        max_attempts=3,
        backoff=Backoff(0.05, 0.1),
    ) as db:
        await _task_moves(db, "t-slow", ["queued", "reserved"])

        async def failed() -> WebhookDelivery:
            rows = await _deliveries(db)
            assert len(rows) == 1
            row = rows[0]
            assert row.state == "failed", (row.state, row.attempts, len(receiver.requests))
            return row

        row = await eventually(failed, timeout=20)
        await asyncio.sleep(0.5)  # anything still in flight arrives
        sent = [r for r in receiver.requests if r.headers["webhook-id"] == row.id]
        assert row.attempts == 3 and len(sent) == 3, (row.attempts, len(sent))


async def test_a_receiver_that_trickles_its_answer_is_cut_off_at_the_timeout(
    database_url: str,
) -> None:
    """httpx's timeout bounds each read, not the request: a receiver sending a byte every 0.2 s
    would hold a POST for minutes. The whole request gets ``timeout_s``."""
    receiver = Receiver(free_port(), status=200, trickle_bytes=100, trickle_s=0.2)
    receiver.start()
    async with _sending(database_url, receiver, timeout_s=0.5, backoff=Backoff(30, 60)) as db:
        await _task_moves(db, "t-trickle", ["queued", "reserved"])
        started = time.monotonic()

        async def timed_out() -> WebhookDelivery:
            rows = await _deliveries(db)
            assert len(rows) == 1
            row = rows[0]
            assert row.attempts == 1 and row.last_error is not None, row.last_error
            return row

        row = await eventually(timed_out, timeout=10)
        assert time.monotonic() - started < 5, "cut off near the timeout, not after 20 s"
        assert row.state == "pending" and row.last_status is None
        assert row.last_error is not None and "timeout" in row.last_error.lower()
