"""How long one feed of the CTI webhook outbox holds a write transaction (on SQLite, the one
writer lock every routing write of the process waits on), and how long it reads.

    python bench/webhook_feed.py                  # 200 transitions (one feed batch), SQLite
    python bench/webhook_feed.py --events 50      # another batch size

Chats of identified visitors, each with a contact, a few page views and three transitions of
interest (offered, accepted, completed); the feed builds each delivery's screen pop
(integrations.webhooks.read_feed) in a read transaction, then writes the rows (do_feed) in a
write one: the two are timed apart. The best and the median of five runs are printed, each
from the same cursor.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from sqlalchemy import delete, insert

from relais.config import WEBHOOK_EVENTS
from relais.contacts.models import Contact, PageView, Visitor
from relais.conversations.models import Conversation
from relais.core.bus import MemoryBus
from relais.core.clock import utcnow
from relais.core.db import Database
from relais.identity.models import Team
from relais.integrations.models import WebhookCursor, WebhookDelivery
from relais.integrations.webhooks import do_feed, read_feed
from relais.migrate import upgrade
from relais.routing.models import Queue, Task, TaskEvent

TEMPLATE = "https://crm.example.com/contacts/{external_id}?task={task_id}"


async def seed(db: Database, events: int) -> None:
    tasks = events // 3 + 1
    old = utcnow() - timedelta(minutes=5)
    async with db.transaction() as uow:
        team = Team(name="Support")
        uow.session.add(team)
        await uow.session.flush()
        queue = Queue(name="Support", channels=["chat"], team_ids=[team.id], rules={})
        uow.session.add(queue)
        await uow.session.flush()
        for i in range(tasks):
            contact = Contact(
                external_id=f"cust-{i}", name=f"Customer {i}", emails=[f"c{i}@x.example"]
            )
            uow.session.add(contact)
            await uow.session.flush()
            visitor = Visitor(contact_id=contact.id)
            uow.session.add(visitor)
            await uow.session.flush()
            for p in range(5):
                uow.session.add(
                    PageView(visitor_id=visitor.id, url=f"https://shop.example/{p}", title="Page")
                )
            conversation = Conversation(
                visitor_id=visitor.id, contact_id=contact.id, team_id=team.id
            )
            uow.session.add(conversation)
            await uow.session.flush()
            task = Task(
                channel="chat",
                queue_id=queue.id,
                state="completed",
                conversation_id=conversation.id,
                contact_id=contact.id,
                visitor_id=visitor.id,
            )
            uow.session.add(task)
            await uow.session.flush()
            for state in ("queued", "reserved", "assigned", "completed"):
                await uow.session.execute(insert(TaskEvent).values(
                    task_id=task.id, queue_id=queue.id, channel="chat", command=state,
                    to_state=state, at=old))  # fmt: skip
        uow.session.add(WebhookCursor(name="cti", last_event_id=0, updated_at=old))


async def run(events: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        await asyncio.to_thread(upgrade, url)
        db = Database(url, MemoryBus())
        await seed(db, events)
        reads: list[float] = []
        writes: list[float] = []
        for _ in range(5):
            async with db.transaction() as uow:
                await uow.session.execute(delete(WebhookDelivery))
                cursor = await uow.session.get(WebhookCursor, "cti")
                assert cursor is not None
                cursor.last_event_id = 0
            started = time.perf_counter()
            async with db.transaction(write=False) as uow:
                feed = await read_feed(uow.session, events=WEBHOOK_EVENTS, templates=[TEMPLATE],
                                       now=utcnow(), batch=events)  # fmt: skip
            read = time.perf_counter()
            async with db.transaction() as uow:
                fed = await do_feed(uow, feed, now=utcnow())
            reads.append(read - started)
            writes.append(time.perf_counter() - read)
        await db.dispose()
    for what, times in (("read (screen pops)", reads), ("write (writer lock held)", writes)):
        print(f"feed of {fed} deliveries (SQLite), {what}: best {min(times) * 1000:.0f} ms, "
              f"median {statistics.median(times) * 1000:.0f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200)
    asyncio.run(run(parser.parse_args().events))


if __name__ == "__main__":
    main()
