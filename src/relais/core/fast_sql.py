"""The chat message hot path's few statements, straight to SQLite when the store is SQLite.

A statement through SQLAlchemy's async layer costs ~130 µs of Python (greenlet hops, an
execution context) for a query SQLite answers in ~10 µs; a message runs four of them. Here a
Core statement is compiled once, with its parameters' and columns' type processors, and run on
the SQLite connection of the unit of work's transaction: the group commit's own (``Direct``), or
the inline connection (relais.core.sqlite_inline) under its session, so it sees and is part of
exactly what SQLAlchemy's statements see. On PostgreSQL it simply goes through SQLAlchemy.

Only for statements whose types have plain processors (strings, numbers, UTC datetimes, JSON);
the hot path's statements are tested on both databases.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import Executable

from relais.core.sqlite_inline import InlineConnection

if TYPE_CHECKING:
    from relais.core.db import UnitOfWork

_Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # the bound parameters, in the order of the ?s
    fixed: dict[str, Any]  # the statement's own values (the 1 of last_seq + 1)
    binds: tuple[_Processor, ...]
    results: tuple[_Processor, ...]  # one per returned column
    keys: tuple[str, ...]


# By statement (kept alive here, so its id stays its own) and by the parameters given: an INSERT
# compiles to the columns it is given.
_cache: dict[tuple[int, tuple[str, ...]], tuple[Executable, _Compiled]] = {}


def _impl(type_: Any, dialect: Dialect) -> Any:
    # The type as this dialect runs it (SQLite's DATETIME parses strings; a TypeDecorator wraps
    # it): the processors SQLAlchemy itself would apply.
    return type_.dialect_impl(dialect)


def _compile(statement: Any, dialect: Dialect, keys: tuple[str, ...]) -> _Compiled:
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    names = tuple(compiled.positiontup or ())
    binds = tuple(_impl(compiled.binds[n].type, dialect).bind_processor(dialect) for n in names)
    columns = list(statement.selected_columns) if hasattr(statement, "selected_columns") else []
    if not columns and getattr(statement, "_returning", None):
        columns = list(statement._returning)
    results = tuple(_impl(c.type, dialect).result_processor(dialect, None) for c in columns)
    fixed = {n: compiled.binds[n].value for n in names if n not in keys}
    return _Compiled(str(compiled), names, fixed, binds, results, tuple(c.key for c in columns))


@dataclass(frozen=True, slots=True)
class Direct:
    """A transaction's own SQLite connection: these statements run on it without SQLAlchemy."""

    sqlite: sqlite3.Connection
    dialect: Dialect


# The session's inline connection, found once per transaction: asking SQLAlchemy for it costs
# two greenlet round trips (~50 µs), more than the statement itself.
_INLINE = "relais.fast_sql.inline"


@event.listens_for(Session, "after_transaction_end")
def _forget_connection(session: Session, _transaction: Any) -> None:
    # The next transaction may get another connection from the pool.
    session.info.pop(_INLINE, None)


async def _route(uow: UnitOfWork) -> Direct | AsyncConnection:
    """Where the unit of work's statements run: its direct SQLite connection (a group commit's
    transaction has one), the SQLite connection under its session, or the session's connection
    (any other database)."""
    if uow.direct is not None:
        return uow.direct
    session = uow.session
    found: Direct | AsyncConnection | None = session.info.get(_INLINE)
    if found is None:
        connection = await session.connection()
        raw = (await connection.get_raw_connection()).driver_connection
        if isinstance(raw, InlineConnection):
            found = Direct(raw.sqlite, connection.dialect)
        else:
            found = connection
        session.info[_INLINE] = found
    return found


async def fetch(
    uow: UnitOfWork, statement: Executable, params: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The rows of ``statement`` (a SELECT, or DML with RETURNING), as dicts by column key."""
    route = await _route(uow)
    if not isinstance(route, Direct):
        result = await route.execute(statement, dict(params))
        return [dict(row._mapping) for row in result] if result.returns_rows else []
    key = (id(statement), tuple(sorted(params)))
    cached = _cache.get(key)
    if cached is None:
        cached = _cache[key] = (statement, _compile(statement, route.dialect, key[1]))
    compiled = cached[1]
    rows = route.sqlite.execute(compiled.sql, _bound(compiled, params)).fetchall()
    return [
        {
            key: (process(value) if process else value)
            for key, process, value in zip(compiled.keys, compiled.results, row, strict=True)
        }
        for row in rows
    ]


def _bound(compiled: _Compiled, params: Mapping[str, Any]) -> Sequence[Any]:
    values = [params[n] if n in params else compiled.fixed[n] for n in compiled.names]
    return [p(v) if p else v for p, v in zip(compiled.binds, values, strict=True)]
