"""Schema changes only through Alembic: the migrations build exactly the models' schema, and
go down and up again, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from relais.core.db import Base, create_engine
from relais.migrate import downgrade, upgrade
from relais.models import load_all_models


def _diff(connection: Connection) -> list[object]:
    load_all_models()
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def _schema_diff(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_diff)
    finally:
        await engine.dispose()


async def test_migrations_match_the_models_and_go_down_and_up(database_url: str) -> None:
    assert await _schema_diff(database_url) == []
    await asyncio.to_thread(downgrade, database_url, "base")
    await asyncio.to_thread(upgrade, database_url)
    assert await _schema_diff(database_url) == []
