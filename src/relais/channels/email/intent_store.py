"""The intent model in the store (``mail_models``, JSON) and its cached copy per process.

The learner (learning.py) is the only writer: it loads the stored model, learns, and saves it
with its version + 1 in the transaction that marks the conversations learnt. Every intake
predicts with ``IntentStore.current``, which keeps the parsed model and asks the store only for
its version: at once after an ``IntentModelChanged`` event, else at most every ``recheck_s``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from relais.channels.email.events import IntentModelChanged
from relais.channels.email.intent import IntentModel
from relais.channels.email.models import MailModel
from relais.core.bus import Event
from relais.core.clock import utcnow
from relais.core.db import UnitOfWork

log = logging.getLogger(__name__)

NAME = "intent"
RECHECK_S = 30.0


async def load_model(session: AsyncSession, threshold: float) -> tuple[int, IntentModel]:
    """The stored model and its version (0 and an empty model when none was learnt yet). The
    threshold is the setting's, whatever the model was saved with."""
    row = await session.get(MailModel, NAME, populate_existing=True)
    if row is None:
        return 0, IntentModel(threshold=threshold)
    model = IntentModel.from_json(row.data)
    model.threshold = threshold
    return row.version, model


async def do_save_model(uow: UnitOfWork, model: IntentModel, *, version: int) -> int:
    """Store ``model`` over the one read at ``version``; the new version. The learner holds a
    lease, so another writer means a lost lease: the conditional write then fails loudly."""
    now, data = utcnow(), model.to_json()
    if version == 0:
        uow.session.add(
            MailModel(name=NAME, data=data, version=1, examples=model.all.documents, updated_at=now)
        )
        await uow.session.flush()
    else:
        result = await uow.session.execute(
            update(MailModel)
            .where(MailModel.name == NAME, MailModel.version == version)
            .values(data=data, version=version + 1, examples=model.all.documents, updated_at=now)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]  # CursorResult of an UPDATE
            raise RuntimeError("the intent model changed under its learner")
    uow.emit(IntentModelChanged(version=version + 1))
    return version + 1


class IntentStore:
    """The model as the intake sees it, cached (see the module's docstring)."""

    def __init__(
        self,
        *,
        threshold: float = 0.6,
        recheck_s: float = RECHECK_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold = threshold
        self.recheck_s = recheck_s
        self.clock = clock
        self.version = 0
        self.model = IntentModel(threshold=threshold)
        self._checked = -math.inf
        self._stale = True

    def on_event(self, event: Event) -> None:
        if isinstance(event, IntentModelChanged) and event.version != self.version:
            self._stale = True

    async def current(self, session: AsyncSession) -> IntentModel:
        if self._stale or self.clock() - self._checked >= self.recheck_s:
            self._stale, self._checked = False, self.clock()
            version = await session.scalar(select(MailModel.version).where(MailModel.name == NAME))
            if (version or 0) != self.version:
                try:
                    self.version, self.model = await load_model(session, self.threshold)
                except ValueError:
                    log.exception("stored intent model unreadable; version %d kept", self.version)
        return self.model
