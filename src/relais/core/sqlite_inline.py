"""An aiosqlite-compatible connection that runs SQLite calls inline, on the event loop.

aiosqlite hands every call to a worker thread and back: about 0.15 ms a hop, several hops a
statement, which capped a chat message (six statements) at a few hundred per second. SQLite on
a local file answers an indexed query in microseconds, so running it inline is faster by an
order of magnitude; the cost is that a slow statement blocks the loop, which is why the embedded
mode keeps queries indexed and short (docs/decisions/0003-sqlite-single-writer.md). PostgreSQL
is unaffected.

Only what SQLAlchemy's aiosqlite dialect calls is implemented.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any


class _Immediate:
    """Stands in for aiosqlite's job queue: runs the job at once and settles its future."""

    def put_nowait(self, item: tuple[Any, Any]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as exc:  # handed to the awaiting caller
            future.set_exception(exc)


class InlineCursor:
    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        self._cursor.execute(sql, parameters or ())
        return self

    async def executemany(self, sql: str, seq: Iterable[Sequence[Any]]) -> InlineCursor:
        self._cursor.executemany(sql, seq)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size or self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class InlineConnection:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._connection: sqlite3.Connection | None = conn
        self._tx = _Immediate()

    @property
    def sqlite(self) -> sqlite3.Connection:
        """The connection itself, for the statements of relais.core.fast_sql."""
        return self._conn

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> InlineCursor:
        return InlineCursor(self._conn.cursor())

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        return await self.cursor().execute(sql, parameters)

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def close(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()

    def stop(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()


def connector(path: str) -> Any:
    async def connect() -> InlineConnection:
        return InlineConnection(sqlite3.connect(path, check_same_thread=False))

    return connect


def begin(adapted_connection: Any, *, immediate: bool = False) -> None:
    """BEGIN on the SQLite connection under SQLAlchemy's adapter (the dialect's begin hook).

    A transaction already open on the connection is joined: a direct transaction
    (relais.core.db) began it, and a session made inside it works in it."""
    inline: InlineConnection = adapted_connection._connection
    if not inline._conn.in_transaction:
        inline._conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
