"""The e-mail automation of a running process: the suggestions index, the learner and the SLA
watch. Built by the composition root (app.py) whether or not mail is configured here: e-mail
conversations may come from another process (``relais mail import``) or another server.

Every process keeps its own suggestions index; the learner and the SLA watch run in the one
process holding their lease (``mail-learn``, ``mail-sla``).
"""

from __future__ import annotations

from relais.channels.email.learning import learn_step
from relais.channels.email.loop import LeasedLoop
from relais.channels.email.sla_watch import sla_step
from relais.channels.email.suggestions import ReplyIndex
from relais.config import Settings
from relais.conversations.events import ConversationChanged
from relais.core.bus import Bus, Event
from relais.core.db import Database

LEARN_POLL_S = 60.0  # the learner is woken by resolutions; this is for an event lost


class MailAutomation:
    def __init__(self, settings: Settings, db: Database, bus: Bus, *, holder: str) -> None:
        mail = settings.mail
        self.replies = ReplyIndex(db, max_pairs=mail.suggestion_replies)
        threshold, policy = mail.intent_threshold, mail.sla
        self.learner = LeasedLoop(
            db,
            "mail-learn",
            lambda lease: learn_step(db, lease, threshold=threshold),
            holder=holder,
            poll_s=LEARN_POLL_S,
            lease_ttl_s=mail.lease_ttl_s,
        )
        self.sla: LeasedLoop | None = None
        if policy.targets:
            self.sla = LeasedLoop(
                db,
                "mail-sla",
                lambda lease: sla_step(db, lease, policy),
                holder=holder,
                poll_s=mail.sla_check_s,
                lease_ttl_s=mail.lease_ttl_s,
            )
        bus.subscribe(self.on_event)

    def on_event(self, event: Event) -> None:
        self.replies.on_event(event)
        if (
            isinstance(event, ConversationChanged)
            and event.reason == "resolved"
            and event.conversation.channel == "email"
        ):
            self.learner.wake()

    async def start(self) -> None:
        await self.replies.start()
        await self.learner.start()
        if self.sla is not None:
            await self.sla.start()

    async def stop(self) -> None:
        if self.sla is not None:
            await self.sla.stop()
        await self.learner.stop()
        await self.replies.stop()
