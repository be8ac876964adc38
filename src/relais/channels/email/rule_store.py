"""The triage rules in the store: read, saved with a version check, and cached per process.

One row (``MailRuleSet``) holds the ordered rule set as JSON. Without a row the setting's rules
(``RELAIS_MAIL__TRIAGE_RULES``) apply as version 0: the setting seeds, the first save by an
admin takes over. A save names the version it read; if another save came first it is refused
(``409 rules_changed``) and nothing is written, so two admins never overwrite each other
silently.

Every intake reads the rules through ``RuleStore``, which keeps the parsed rule set and asks
the store only for the version: at once after a ``MailRulesChanged`` event (another process
saved), else at most every ``recheck_s`` seconds (an event lost on the bus, or a process
without one such as ``relais mail import``).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from relais.channels.email.events import MailRulesChanged
from relais.channels.email.models import MailRuleSet
from relais.channels.email.rules import RuleSet
from relais.core.bus import Event
from relais.core.clock import utcnow
from relais.core.db import UnitOfWork
from relais.core.errors import Conflict

log = logging.getLogger(__name__)

NAME = "triage"
RECHECK_S = 30.0


@dataclass(frozen=True, slots=True)
class StoredRules:
    version: int  # 0: the setting's rules, never saved
    rules: RuleSet
    updated_at: datetime | None = None
    updated_by: str | None = None


async def load_rules(session: AsyncSession, seed: RuleSet) -> StoredRules:
    row = await session.get(MailRuleSet, NAME, populate_existing=True)
    if row is None:
        return StoredRules(0, seed)
    return StoredRules(
        row.version, RuleSet.model_validate(row.rules), row.updated_at, row.updated_by
    )


async def do_save_rules(
    uow: UnitOfWork, rules: RuleSet, *, version: int, agent_id: str | None
) -> StoredRules:
    """Replace the rules read at ``version``; Conflict if they changed since."""
    session, now = uow.session, utcnow()
    data = rules.model_dump(mode="json", exclude_defaults=False)
    current = await session.scalar(select(MailRuleSet.version).where(MailRuleSet.name == NAME))
    if (current or 0) != version:
        raise Conflict(
            f"The rules changed meanwhile (version {current or 0}, not {version}): "
            "read them again and redo your change.",
            code="rules_changed",
        )
    if current is None:
        # Two first saves at once: one insert wins, the other fails on the primary key and
        # runs again (Database.run), finding version 1.
        session.add(
            MailRuleSet(name=NAME, rules=data, version=1, updated_at=now, updated_by=agent_id)
        )
        await session.flush()
    else:
        result = await session.execute(
            update(MailRuleSet)
            .where(MailRuleSet.name == NAME, MailRuleSet.version == version)
            .values(rules=data, version=version + 1, updated_at=now, updated_by=agent_id)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]  # CursorResult of an UPDATE
            raise Conflict("The rules changed meanwhile.", code="rules_changed")
    uow.emit(MailRulesChanged(version=version + 1))
    return StoredRules(version + 1, rules, now, agent_id)


class RuleStore:
    """The rules as the intake sees them, cached (see the module's docstring)."""

    def __init__(
        self,
        seed: RuleSet | None = None,
        *,
        recheck_s: float = RECHECK_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seed = seed or RuleSet()
        self.recheck_s = recheck_s
        self.clock = clock
        self.version = -1
        self._rules = self.seed
        self._checked = -math.inf
        self._stale = True

    def on_event(self, event: Event) -> None:
        if isinstance(event, MailRulesChanged) and event.version != self.version:
            self._stale = True

    async def current(self, session: AsyncSession) -> RuleSet:
        """The rule set to apply now (empty: no rules)."""
        if self._stale or self.clock() - self._checked >= self.recheck_s:
            # Cleared before reading: an event that arrives meanwhile marks it stale again.
            self._stale, self._checked = False, self.clock()
            version = await session.scalar(
                select(MailRuleSet.version).where(MailRuleSet.name == NAME)
            )
            if (version or 0) != self.version:
                try:
                    stored = await load_rules(session, self.seed)
                except ValidationError:  # saved by a newer Relais with rules this one lacks
                    log.exception(
                        "stored triage rules unreadable; keeping version %d", self.version
                    )
                else:
                    self.version, self._rules = stored.version, stored.rules
        return self._rules
