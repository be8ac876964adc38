"""Events of the e-mail channel's automation (published after commit, like every event).

``MailRulesChanged`` and ``IntentModelChanged`` tell every process that a cached copy is stale
(no client receives them); ``SlaAlert`` goes to supervisors and admins only, as an ``sla``
frame. Processes that miss a cache event find the change anyway when they next look at the
stored version (``RuleStore``, ``IntentStore``: at most every ``RECHECK_S`` seconds).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from relais.core.bus import Event


class MailRulesChanged(Event):
    """An admin saved the triage rules: every process reads them again."""

    type: Literal["mail.rules_changed"] = "mail.rules_changed"
    version: int


class IntentModelChanged(Event):
    """The intent model learnt from resolved mail: every process reads it again."""

    type: Literal["mail.intent_changed"] = "mail.intent_changed"
    version: int


class SlaAlert(Event):
    """An e-mail task has missed a service-level target (``sla.breached``: its priority was
    raised) or is about to (``sla.at_risk``). Supervisors and admins receive it."""

    type: Literal["sla.breached", "sla.at_risk"]
    level: Literal["at_risk", "breached"]
    clock: Literal["first_response", "resolution"]
    task_id: str
    conversation_id: str | None
    queue_id: str
    due_at: datetime
    priority: int
