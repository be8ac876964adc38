"""A server's SQLite checkpoints its WAL in a thread, never inside a commit on the event loop."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

from relais.core.bus import MemoryBus
from relais.core.db import Database


async def _fill(db: Database, rows: int) -> None:
    async with db.transaction(write=False) as uow:
        first = await uow.session.scalar(text("SELECT coalesce(max(id), 0) + 1 FROM filler"))
    for start in range(first, first + rows, 500):
        async with db.transaction() as uow:
            for i in range(start, start + 500):
                await uow.session.execute(
                    text("INSERT INTO filler (id, body) VALUES (:id, :body)"),
                    {"id": i, "body": "x" * 2000},
                )


async def test_commits_leave_checkpoints_to_the_thread(tmp_path: Path) -> None:
    path = tmp_path / "relais.db"
    db = Database(f"sqlite+aiosqlite:///{path}", MemoryBus(), background_checkpoints=True)
    db.start()
    try:
        async with db.transaction() as uow:
            await uow.session.execute(text("CREATE TABLE filler (id INTEGER PRIMARY KEY, body)"))
            auto = await uow.session.scalar(text("PRAGMA wal_autocheckpoint"))
        assert auto == 0, "the server's connections never checkpoint on a commit"
        # ~1,500 pages: past SQLite's own threshold (1,000), which the thread now stands for.
        await _fill(db, 3000)
        assert db.checkpointer is not None
        runs = db.checkpointer.runs
        for _ in range(100):
            if db.checkpointer.runs > runs + 1:
                break
            await asyncio.sleep(0.05)
        assert db.checkpointer.runs > runs + 1, "the thread checkpoints on its own"
        wal = Path(f"{path}-wal")
        wal_size = (await asyncio.to_thread(wal.stat)).st_size
        # Caught up, the WAL starts over from its beginning at the next write: it stays the
        # size of one burst instead of growing with every write.
        await _fill(db, 1000)
        await _fill(db, 1000)
        assert (await asyncio.to_thread(wal.stat)).st_size <= wal_size
    finally:
        await db.dispose()
    assert db.checkpointer.runs > 0


async def test_without_the_thread_sqlite_checkpoints_as_usual(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'relais.db'}", MemoryBus())
    try:
        assert db.checkpointer is None
        async with db.transaction(write=False) as uow:
            assert await uow.session.scalar(text("PRAGMA wal_autocheckpoint")) == 1000
    finally:
        await db.dispose()
