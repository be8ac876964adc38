"""The wallboard's records on each database: the whole history of every task touched today or
still open, in one query; a task queued yesterday and answered today counts as answered today."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from relais.core.bus import MemoryBus
from relais.core.db import Database
from relais.routing.models import Queue, Task, TaskEvent
from relais.supervision.endpoints import compute_wallboard
from relais.supervision.repository import load_transitions

NOW = datetime(2024, 5, 6, 10, 0, tzinfo=UTC)
MIDNIGHT = datetime(2024, 5, 6, tzinfo=UTC)


def _event(task: str, queue: str, command: str, before: str | None, after: str,
           when: datetime, agent: str | None = None) -> dict[str, object]:  # fmt: skip
    return {"task_id": task, "queue_id": queue, "channel": "chat", "agent_id": agent,
            "command": command, "from_state": before, "to_state": after, "at": when}  # fmt: skip


async def test_a_task_queued_yesterday_and_answered_today_counts_with_its_whole_wait(
    database_url: str,
) -> None:
    db = Database(database_url, MemoryBus())
    try:
        async with db.transaction() as uow:
            queue = Queue(name="Night", channels=["chat"], team_ids=[], rules={})
            uow.session.add(queue)
            await uow.session.flush()
            q = queue.id
            late, old = MIDNIGHT - timedelta(minutes=2), NOW - timedelta(days=3)
            answer = MIDNIGHT + timedelta(minutes=1)
            rows = [
                # Queued two minutes before midnight, answered one minute after.
                _event("late", q, "create", None, "queued", late),
                _event("late", q, "reserve", "queued", "reserved", answer),
                _event("late", q, "accept", "reserved", "assigned", answer),
                # Done three days ago: not read.
                _event("old", q, "create", None, "queued", old),
                _event("old", q, "abandon", "queued", "abandoned", old + timedelta(seconds=30)),
                # Queued two days ago and still waiting, with no event today: read.
                _event("stuck", q, "create", None, "queued", NOW - timedelta(days=2)),
            ]  # fmt: skip
            await uow.session.execute(insert(TaskEvent), rows)
            for task_id, state in (("late", "assigned"), ("old", "abandoned"), ("stuck", "queued")):
                uow.session.add(
                    Task(id=task_id, channel="chat", queue_id=q, state=state, created_at=old)
                )

        async with db.transaction(write=False) as uow:
            records = await load_transitions(uow.session, MIDNIGHT - timedelta(hours=1))
        assert sorted({r.task_id for r in records}) == ["late", "stuck"]
        assert len([r for r in records if r.task_id == "late"]) == 3, "its whole history"

        board = await compute_wallboard(db, NOW)
        [night] = board.queues
        assert (night.offered, night.answered) == (0, 1)
        assert night.asa_s == 180
        assert night.waiting == 1 and night.longest_wait_s == 2 * 86400
    finally:
        await db.dispose()
