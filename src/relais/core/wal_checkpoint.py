"""SQLite's WAL checkpoints, in a thread of their own instead of inside a commit on the loop.

By default the commit that pushes the WAL past 1,000 pages runs the checkpoint itself: it copies
the WAL back into the database file and syncs both, 10-16 ms measured under chat load, on the
event loop (relais.core.sqlite_inline runs SQLite inline), so every connection of the process
waits. Here the server's connections turn automatic checkpoints off and this thread runs a
PASSIVE checkpoint on its own connection a few times a second. PASSIVE never waits for readers
or the writer; SQLite releases the GIL while it copies and syncs; and once a checkpoint has
caught up, the next write transaction starts the WAL over from its beginning, so the file stays
small.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from dataclasses import dataclass

log = logging.getLogger(__name__)

# Past this many pages still not checkpointed (a reader holds an old snapshot for long), say so.
WARN_PAGES = 50_000


@dataclass(frozen=True, slots=True)
class Checkpoint:
    busy: bool  # could not run at all (another checkpoint was running)
    wal_pages: int  # pages in the WAL
    copied: int  # of which now in the database file


class WalCheckpointer:
    def __init__(self, path: str, *, interval_s: float = 0.25) -> None:
        self.path = path
        self.interval_s = interval_s
        self.runs = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._warned = False

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop, after one last checkpoint (so a stopped server leaves a short WAL)."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None

    def checkpoint(self, connection: sqlite3.Connection) -> Checkpoint:
        row = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        self.runs += 1
        result = Checkpoint(busy=bool(row[0]), wal_pages=row[1], copied=row[2])
        behind = result.wal_pages - result.copied
        if behind > WARN_PAGES and not self._warned:
            self._warned = True
            log.warning(
                "the SQLite WAL holds %d pages not yet checkpointed: a long read transaction "
                "keeps an old snapshot open",
                behind,
            )
        elif behind <= WARN_PAGES:
            self._warned = False
        return result

    def _run(self) -> None:
        connection = sqlite3.connect(self.path, check_same_thread=False)
        try:
            connection.execute("PRAGMA busy_timeout=5000")
            while not self._stop.wait(self.interval_s):
                self._checkpoint_quietly(connection)
            self._checkpoint_quietly(connection)
        finally:
            connection.close()

    def _checkpoint_quietly(self, connection: sqlite3.Connection) -> None:
        try:
            self.checkpoint(connection)
        except sqlite3.Error:
            # The next round tries again; the WAL only grows meanwhile.
            log.exception("WAL checkpoint failed")
