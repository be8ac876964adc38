"""The CTI webhook: each task offered, accepted or completed is POSTed, signed, to the
integrator's URL, with the screen pop the desk gets (docs/api.md, "CTI for integrators").

One process at a time (the holder of the ``webhooks`` lease) does the work, in two steps:

1. **Feed.** Read the recorded task transitions (``task_events``) past a cursor and write one
   delivery row per event of interest, its body built once (the screen pop as the store holds
   it then), in a read transaction (``read_feed``); then write the rows in a short fenced one
   (``do_feed``). Routing neither writes nor waits for anything: the outbox is fed from its
   record.
   Transitions of the last ``SETTLE`` are read again at every feed, so one committed a little
   late (PostgreSQL hands out ids before commit) is not skipped; the unique transition id of
   a delivery keeps it to one row.
2. **Claim.** In the same fenced transaction, count an attempt of each due row and move its
   next attempt past the time this batch may take (``do_claim``): the attempt counts before it
   is made, so a holder that loses its lease or dies in the middle of a POST leaves a row that
   is tried again later, never at once by the next holder, and never more than the attempts
   allowed (the record of the outcome may be lost; the count is not).
3. **Deliver.** POST the claimed rows with httpx, outside any transaction, each within
   ``timeout_s`` in all (httpx's own timeout bounds each read, not the request); 2xx is
   delivered, anything else (an error status, a refused connection, a timeout) is tried again
   after an exponential back-off with jitter, and marked failed after the last attempt.

Delivery is at least once: an answer that is lost (the sender died before recording it) means
one more attempt. Receivers deduplicate by ``webhook-id``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from relais.core.bus import Event
from relais.core.clock import utcnow
from relais.core.db import Database, UnitOfWork
from relais.identity.principals import AgentPrincipal
from relais.integrations.cti import pop_url
from relais.integrations.models import WebhookCursor, WebhookDelivery, new_message_id
from relais.integrations.signing import headers
from relais.routing.events import TaskChanged
from relais.routing.lease import LeaseLost, StoreLease
from relais.routing.models import Task, TaskEvent
from relais.routing.screen_pop import ScreenPop, screen_pop_of

log = logging.getLogger(__name__)

VERSION = 1
SETTLE = timedelta(seconds=30)
FEED_BATCH = 200
DELIVER_BATCH = 20
CONCURRENCY = 4
# Which transitions are told, by the state they lead to.
EVENT_OF_STATE = {
    "reserved": "task.offered",
    "assigned": "task.accepted",
    "completed": "task.completed",
}
_JITTER = random.Random()  # noqa: S311  # spreads retries; nothing secret depends on it
# The screen pop is built as an administrator sees it: the integrator gets everything.
SYSTEM = AgentPrincipal(agent_id="", name="Relais", role="admin")


class WebhookMessage(BaseModel):
    """The body of one POST. ``type`` names the event; ``data`` is the screen pop as
    ``GET /api/v1/tasks/{id}/screen-pop`` gives it, read when the event was prepared (within
    seconds of it); ``occurred_at``, ``agent_id`` and ``queue_id`` are the transition's own."""

    type: Literal["task.offered", "task.accepted", "task.completed"]
    version: int = VERSION
    event_id: str  # the webhook-id header: the same on every attempt
    timestamp: datetime  # when the body was prepared
    occurred_at: datetime
    task_id: str
    agent_id: str | None
    queue_id: str
    data: ScreenPop


@dataclass(frozen=True, slots=True)
class Backoff:
    base_s: float
    max_s: float

    def delay(self, attempts: int, rng: random.Random | None = None) -> float:
        """After ``attempts`` failed attempts: base * 2^(attempts-1), capped, then "equal
        jitter" (half fixed, half random) so that receivers coming back are not hit by every
        sender at the same instant."""
        full = min(self.max_s, self.base_s * 2.0 ** max(0, attempts - 1))
        return full / 2 + (rng or _JITTER).uniform(0, full / 2)


def origin(url: str) -> str:
    """What logs may say of the receiver: scheme and host, never a path or credentials."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}"


# -- feed --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Feed:
    """Deliveries prepared from the transitions past the cursor as it stood at ``start``, and
    where the cursor may move once they are written (None: not all were read)."""

    start: int
    rows: list[dict[str, Any]]
    settled: int | None


async def read_feed(
    session: AsyncSession,
    *,
    events: Sequence[str],
    templates: Sequence[str | None],
    now: datetime,
    batch: int = FEED_BATCH,
) -> Feed | None:
    """Build the deliveries of the transitions past the cursor, screen pops included, in a
    read transaction: on SQLite a write transaction holds the process's one writer lock, and
    200 screen pops take it for a second or two (bench/webhook_feed.py), during which no accept,
    message or routing decision of the process could be written. None: no cursor yet."""
    cursor = await session.get(WebhookCursor, "cti")
    if cursor is None:
        return None
    states = [s for s, e in EVENT_OF_STATE.items() if e in events]
    found = (
        await session.scalars(
            select(TaskEvent)
            .outerjoin(WebhookDelivery, WebhookDelivery.task_event_id == TaskEvent.id)
            .where(
                TaskEvent.id > cursor.last_event_id,
                TaskEvent.to_state.in_(states),
                WebhookDelivery.id.is_(None),
            )
            .order_by(TaskEvent.id)
            .limit(batch)
        )
    ).all()
    rows: list[dict[str, Any]] = []
    for event in found:
        task = await session.get(Task, event.task_id)
        if task is None:
            continue
        pop = await screen_pop_of(
            session, SYSTEM, task, pop_url=lambda v: pop_url(templates, v), now=now
        )
        delivery_id, event_type = new_message_id(), EVENT_OF_STATE[event.to_state]
        message = WebhookMessage(
            type=event_type,
            event_id=delivery_id,
            timestamp=now,
            occurred_at=event.at,
            task_id=event.task_id,
            agent_id=event.agent_id,
            queue_id=event.queue_id,
            data=pop,
        )
        rows.append(
            {
                "id": delivery_id, "task_event_id": event.id, "event_type": event_type,
                "task_id": event.task_id, "body": message.model_dump_json(), "state": "pending",
                "attempts": 0, "next_attempt_at": now, "created_at": now,
            }
        )  # fmt: skip
    # The cursor moves over what is settled: every older transition has been considered.
    settled = await session.scalar(
        select(func.max(TaskEvent.id)).where(
            TaskEvent.id > cursor.last_event_id, TaskEvent.at < now - SETTLE
        )
    )
    return Feed(cursor.last_event_id, rows, settled if len(found) < batch else None)


async def do_feed(uow: UnitOfWork, feed: Feed | None, *, now: datetime) -> int:
    """Write what ``read_feed`` prepared (a few inserts: the writer lock is held briefly).
    Returns how many deliveries were written."""
    session = uow.session
    cursor = await session.get(WebhookCursor, "cti", with_for_update=True)
    if cursor is None:
        # Configured now: tell of what happens from now on, not of the whole history.
        last = await session.scalar(select(func.max(TaskEvent.id))) or 0
        session.add(WebhookCursor(name="cti", last_event_id=last, updated_at=now))
        await session.flush()
        return 0
    if feed is None or cursor.last_event_id != feed.start:
        return 0  # the cursor moved since the read: read again
    known = set(
        await session.scalars(
            select(WebhookDelivery.task_event_id).where(
                WebhookDelivery.task_event_id.in_([r["task_event_id"] for r in feed.rows])
            )
        )
    )
    rows = [r for r in feed.rows if r["task_event_id"] not in known]
    if rows:
        await session.execute(insert(WebhookDelivery), rows)
    if feed.settled is not None:
        cursor.last_event_id, cursor.updated_at = feed.settled, now
    return len(rows)


# -- deliver -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    delivery_id: str
    attempt: int
    status: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True, slots=True)
class Claim:
    """A delivery taken for one attempt: ``attempt`` is its number, counted already."""

    delivery_id: str
    attempt: int
    body: str


def claim_window_s(claimed: int, timeout_s: float) -> float:
    """The longest a batch of ``claimed`` POSTs may take: rounds of CONCURRENCY, each ending
    within the timeout, and one more round of margin."""
    return timeout_s * (math.ceil(claimed / CONCURRENCY) + 1)


async def do_claim(
    uow: UnitOfWork,
    *,
    now: datetime,
    backoff: Backoff,
    max_attempts: int,
    timeout_s: float,
    batch: int = DELIVER_BATCH,
) -> list[Claim]:
    """Count an attempt of each due delivery and push its next attempt past this batch's end
    (or its back-off, if longer): nobody sends it again while this attempt may be in flight.
    A row whose attempts are all spent (the last one's outcome was never recorded) fails."""
    rows = (
        await uow.session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.state == "pending", WebhookDelivery.next_attempt_at <= now)
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(batch)
        )
    ).all()
    live = [row for row in rows if row.attempts < max_attempts]
    for row in rows:
        if row.attempts >= max_attempts:
            row.state, row.failed_at = "failed", now
    window = claim_window_s(len(live), timeout_s)
    claims = []
    for row in live:
        row.attempts += 1
        hold = max(window, backoff.delay(row.attempts))
        row.next_attempt_at = now + timedelta(seconds=hold)
        claims.append(Claim(row.id, row.attempts, row.body))
    return claims


async def post(
    client: httpx.AsyncClient, url: str, key: bytes, claim: Claim, now: float, timeout_s: float
) -> Outcome:
    body = claim.body.encode()
    signed = headers(key, claim.delivery_id, int(now), body)
    try:
        async with asyncio.timeout(timeout_s):
            response = await client.post(
                url,
                content=body,
                headers={**signed, "content-type": "application/json", "user-agent": "Relais"},
            )
    except TimeoutError:
        return Outcome(claim.delivery_id, claim.attempt, None, "Timeout")
    except httpx.HTTPError as exc:
        # The exception's text may carry the URL; its kind is enough.
        return Outcome(claim.delivery_id, claim.attempt, None, type(exc).__name__)
    return Outcome(claim.delivery_id, claim.attempt, response.status_code, None)


async def do_record(
    uow: UnitOfWork,
    outcomes: Sequence[Outcome],
    *,
    backoff: Backoff,
    max_attempts: int,
    now: datetime,
) -> None:
    """What each attempt gave. Only for the attempt claimed: an outcome that comes after the row
    moved on (claimed again once its window passed, by this process or another) changes
    nothing, so recording needs no lease."""
    for outcome in outcomes:
        row = await uow.session.get(WebhookDelivery, outcome.delivery_id)
        if row is None or row.state != "pending" or row.attempts != outcome.attempt:
            continue
        row.last_status, row.last_error = outcome.status, outcome.error
        if outcome.ok:
            row.state, row.delivered_at = "delivered", now
        elif row.attempts >= max_attempts:
            row.state, row.failed_at = "failed", now
        else:
            row.next_attempt_at = now + timedelta(seconds=backoff.delay(row.attempts))


# -- the worker --------------------------------------------------------------------------------


class WebhookSender:
    """Feeds and delivers in the process holding the ``webhooks`` lease; woken by task events,
    and every ``poll_s`` for what is due later."""

    def __init__(
        self,
        db: Database,
        *,
        url: str,
        key: bytes,
        holder: str,
        events: Sequence[str],
        templates: Sequence[str | None],
        timeout_s: float,
        backoff: Backoff,
        max_attempts: int,
        poll_s: float,
        lease_ttl_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.url = url
        self._key = key
        self.events = list(events)
        self.templates = list(templates)
        self.timeout_s = timeout_s
        self.backoff = backoff
        self.max_attempts = max_attempts
        self.poll_s = poll_s
        self.lease = StoreLease(db, "webhooks", holder, ttl_s=lease_ttl_s)
        self.clock = clock
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def __repr__(self) -> str:  # never the key
        return f"WebhookSender({origin(self.url)})"

    def on_event(self, event: Event) -> None:
        if isinstance(event, TaskChanged):
            self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="webhooks")

    async def stop(self) -> None:
        """Let a batch in flight finish (its POSTs end within the timeout), then stop."""
        if self._task is not None:
            self._stopping = True
            self._wake.set()
            try:
                await asyncio.wait_for(asyncio.shield(self._task), self.timeout_s + 1)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        with contextlib.suppress(Exception):
            await self.lease.release()

    async def _run(self) -> None:
        async with httpx.AsyncClient(timeout=self.timeout_s, follow_redirects=False) as client:
            while not self._stopping:
                self._wake.clear()
                try:
                    if await self.lease.acquire():
                        while await self.step(client) and not self._stopping:
                            pass
                except asyncio.CancelledError:
                    raise
                except LeaseLost:
                    log.warning("webhooks lease lost by %s", self.lease.holder)
                except Exception:
                    log.exception("webhook sender failed; trying again")
                if not self._stopping:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self.poll_s)

    async def step(self, client: httpx.AsyncClient) -> bool:
        """One feed and one batch of deliveries; True if there may be more to do at once."""
        now = utcnow()
        async with self.db.transaction(write=False) as uow:
            feed = await read_feed(
                uow.session, events=self.events, templates=self.templates, now=now
            )
        async with self.db.transaction() as uow:
            await self.lease.fence(uow.session, now)
            fed = await do_feed(uow, feed, now=now)
            claims = await do_claim(
                uow, now=now, backoff=self.backoff, max_attempts=self.max_attempts,
                timeout_s=self.timeout_s,
            )  # fmt: skip
        if not claims:
            return fed > 0
        limit = asyncio.Semaphore(CONCURRENCY)

        async def one(claim: Claim) -> Outcome:
            async with limit:
                return await post(client, self.url, self._key, claim, self.clock(), self.timeout_s)

        outcomes = await asyncio.gather(*(one(c) for c in claims))
        for o in outcomes:
            if not o.ok:
                log.info(
                    "webhook %s to %s: %s", o.delivery_id, origin(self.url), o.status or o.error
                )
        async with self.db.transaction() as uow:
            await do_record(
                uow, outcomes, backoff=self.backoff, max_attempts=self.max_attempts, now=utcnow()
            )
        return len(claims) == DELIVER_BATCH or fed > 0
