"""A lease in the store: work that must run in one process at a time (the ACD engine).

The lease is a row: a holder, an expiry, and a token that grows with every new holder. The
holder renews it well before it expires; another process takes it once it has expired, so a
dead holder is replaced within ``ttl`` seconds. Each write the holder makes checks the token in
the same transaction (``fence``): a holder that was paused past its expiry (a long GC, a frozen
VM) and replaced finds its writes refused instead of competing with the new holder.

The same row works on SQLite and PostgreSQL, needing neither advisory locks nor Redis
(docs/decisions/0006-acd-lease-and-versions.md).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from relais.core.clock import utcnow
from relais.core.db import Database
from relais.routing.models import Lease


class LeaseLost(Exception):
    pass


class StoreLease:
    def __init__(self, db: Database, name: str, holder: str, *, ttl_s: float) -> None:
        self.db = db
        self.name = name
        self.holder = holder
        self.ttl = timedelta(seconds=ttl_s)
        self.token: int | None = None

    @property
    def held(self) -> bool:
        return self.token is not None

    async def acquire(self) -> bool:
        """Take the lease if it is free or expired; renew it if ours. True when held."""
        now = utcnow()
        try:
            async with self.db.transaction() as uow:
                row = await uow.session.get(Lease, self.name, with_for_update=True)
                if row is None:
                    await uow.session.execute(
                        insert(Lease).values(
                            name=self.name, holder=self.holder, token=1, expires_at=now + self.ttl
                        )
                    )
                    self.token = 1
                    return True
                if row.holder == self.holder and row.token == self.token:
                    row.expires_at = now + self.ttl
                    return True
                if row.expires_at > now:
                    self.token = None
                    return False
                row.holder, row.token, row.expires_at = self.holder, row.token + 1, now + self.ttl
                self.token = row.token
                return True
        except IntegrityError:
            self.token = None  # another process created the row first
            return False

    async def fence(self, session: AsyncSession, now: datetime | None = None) -> None:
        """Within a write transaction: renew the lease, or refuse the transaction if not ours."""
        now = now or utcnow()
        result = await session.execute(
            update(Lease)
            .where(Lease.name == self.name, Lease.holder == self.holder, Lease.token == self.token)
            .values(expires_at=now + self.ttl)
        )
        if self.token is None or result.rowcount != 1:  # type: ignore[attr-defined]  # UPDATE result
            self.token = None
            raise LeaseLost(self.name)

    async def release(self) -> None:
        if self.token is None:
            return
        async with self.db.transaction() as uow:
            await uow.session.execute(
                update(Lease)
                .where(Lease.name == self.name, Lease.holder == self.holder)
                .values(expires_at=utcnow())
            )
        self.token = None

    async def current_holder(self) -> str | None:
        async with self.db.transaction(write=False) as uow:
            return await uow.session.scalar(select(Lease.holder).where(Lease.name == self.name))
