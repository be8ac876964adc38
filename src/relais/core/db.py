"""The database engine and the unit of work.

One transaction per request or task. Events emitted inside a unit of work are published on the
bus only after the commit succeeds, and dropped on rollback
(docs/decisions/0002-events-after-commit.md).

SQLite allows one writer at a time; instead of letting concurrent writers fail with "database is
locked", write transactions in a SQLite process queue on one asyncio lock. PostgreSQL needs no such
lock. Readers never wait (WAL).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import DateTime, MetaData, event, make_url
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from relais.core import fast_sql, sqlite_inline
from relais.core.group_commit import GroupCommit
from relais.core.wal_checkpoint import WalCheckpointer

if TYPE_CHECKING:
    from relais.core.bus import Bus, Event

T = TypeVar("T")
log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def create_engine(url: str, *, background_checkpoints: bool = False) -> AsyncEngine:
    if url.startswith("sqlite"):
        path = make_url(url).database or ":memory:"
        engine = create_async_engine(url, async_creator=sqlite_inline.connector(path))

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=5000")
            if background_checkpoints:
                # relais.core.wal_checkpoint runs them, off the event loop.
                cursor.execute("PRAGMA wal_autocheckpoint=0")
            cursor.close()
            # The driver's own transaction handling would let SAVEPOINT start (and RELEASE
            # commit) a transaction of its own; SQLAlchemy's recipe: we emit BEGIN ourselves.
            dbapi_connection.isolation_level = None

        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin(connection: Any) -> None:
            # Straight to SQLite: through the statement machinery this cost a quarter of a
            # millisecond per transaction.
            # A write transaction takes SQLite's write lock at BEGIN (IMMEDIATE): upgrading a
            # read lock later fails at once with "database is locked" when another process (the
            # CLI beside the server) writes meanwhile, whereas BEGIN IMMEDIATE waits its turn.
            immediate = _sqlite_write.get()
            sqlite_inline.begin(connection.connection.dbapi_connection, immediate=immediate)

        return engine
    return create_async_engine(url, pool_size=20, max_overflow=20, pool_pre_ping=True)


_sqlite_write: ContextVar[bool] = ContextVar("sqlite_write", default=False)


class UnitOfWork:
    """A transaction as its work sees it: the ORM session, the SQLite connection its direct
    statements run on when it has one (relais.core.fast_sql), and the events to publish once it
    commits. A direct transaction makes its session only when a work asks for it."""

    def __init__(
        self,
        session: AsyncSession | Callable[[], AsyncSession],
        *,
        direct: fast_sql.Direct | None = None,
    ) -> None:
        self._session = session if isinstance(session, AsyncSession) else None
        self._make_session = None if isinstance(session, AsyncSession) else session
        self.direct = direct
        self.events: list[Event] = []

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            assert self._make_session is not None
            self._session = self._make_session()
        return self._session

    @property
    def has_session(self) -> bool:
        return self._session is not None

    def emit(self, event: Event) -> None:
        self.events.append(event)


class Database:
    def __init__(self, url: str, bus: Bus, *, background_checkpoints: bool = False) -> None:
        """``background_checkpoints``: a long-running server's SQLite file checkpoints its WAL
        in a thread (relais.core.wal_checkpoint) between ``start`` and ``dispose``."""
        self.url = url
        path = make_url(url).database if url.startswith("sqlite") else None
        self.checkpointer = (
            WalCheckpointer(path)
            if background_checkpoints and path and path != ":memory:"
            else None
        )
        self.engine = create_engine(url, background_checkpoints=self.checkpointer is not None)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.bus = bus
        self._write_lock = asyncio.Lock() if url.startswith("sqlite") else None
        self.grouped = GroupCommit(self)
        self._writer_connection: tuple[AsyncConnection, sqlite3.Connection] | None = None

    @property
    def is_sqlite(self) -> bool:
        return self._write_lock is not None

    @asynccontextmanager
    async def transaction(
        self, *, write: bool = True, direct: bool = False
    ) -> AsyncIterator[UnitOfWork]:
        """One transaction; commit on success, then publish its events.

        ``direct`` (a SQLite write): the transaction runs straight on one SQLite connection kept
        for it, without SQLAlchemy's session and connection machinery (~0.4 ms a transaction,
        more than a chat message's statements); a work that asks for ``uow.session`` gets one
        in the same transaction. Elsewhere it is an ordinary transaction."""
        if direct and write and self.is_sqlite:
            opened = self._direct_transaction()
        else:
            opened = self._session_transaction(write)
        async with opened as uow:
            yield uow
        if uow.events:
            try:
                await self.bus.publish_many(uow.events)
            except Exception:
                # The write is committed; clients notice the missed events by sequence (heartbeats)
                # and fetch from the store, so the caller is not told its write failed.
                log.exception("publishing %d events failed", len(uow.events))

    @asynccontextmanager
    async def _session_transaction(self, write: bool) -> AsyncIterator[UnitOfWork]:
        async with self._maybe_locked(write), self.sessions() as session:
            uow = UnitOfWork(session)
            mode = _sqlite_write.set(write)
            try:
                yield uow
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
            finally:
                _sqlite_write.reset(mode)

    @asynccontextmanager
    async def _direct_transaction(self) -> AsyncIterator[UnitOfWork]:
        assert self._write_lock is not None
        async with self._write_lock:
            writer, sqlite = await self._writer()
            sqlite.execute("BEGIN IMMEDIATE")
            uow = UnitOfWork(
                lambda: self.sessions(bind=writer),
                direct=fast_sql.Direct(sqlite, self.engine.dialect),
            )
            try:
                yield uow
                if uow.has_session:
                    await uow.session.flush()
                sqlite.commit()
            except BaseException:
                sqlite.rollback()
                raise
            finally:
                if uow.has_session:
                    # Its transaction joined ours (sqlite_inline.begin), which has ended: the
                    # rollback this close sends finds nothing to undo.
                    await uow.session.close()

    async def _writer(self) -> tuple[AsyncConnection, sqlite3.Connection]:
        """The connection direct transactions run on, taken from the pool once and kept."""
        if self._writer_connection is None:
            connection = await self.engine.connect()
            inline = (await connection.get_raw_connection()).driver_connection
            assert isinstance(inline, sqlite_inline.InlineConnection)
            self._writer_connection = (connection, inline.sqlite)
        return self._writer_connection

    @asynccontextmanager
    async def _maybe_locked(self, write: bool) -> AsyncIterator[None]:
        if write and self._write_lock is not None:
            async with self._write_lock:
                yield
        else:
            yield

    async def run(
        self,
        work: Callable[[UnitOfWork], Awaitable[T]],
        *,
        write: bool = True,
        direct: bool = False,
    ) -> T:
        """Run ``work`` in one transaction. A transaction that loses a race on a uniqueness rule
        (the same client id sent twice at once, two "start" requests) is run once more: the
        second run finds the winner's row and returns it, so callers see one result."""
        try:
            async with self.transaction(write=write, direct=direct) as uow:
                return await work(uow)
        except IntegrityError:
            async with self.transaction(write=write, direct=direct) as uow:
                return await work(uow)

    async def run_grouped(self, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        """``run`` for the hot path's small writes: those that arrive together share one
        transaction (relais.core.group_commit), each with the outcome it would have alone."""
        return await self.grouped.run(work)

    def start(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.start()

    async def dispose(self) -> None:
        if self.checkpointer is not None:
            await asyncio.to_thread(self.checkpointer.stop)
        if self._writer_connection is not None:
            await self._writer_connection[0].close()
            self._writer_connection = None
        await self.engine.dispose()
