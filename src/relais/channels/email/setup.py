"""From the settings to the store: the mailboxes, their queues, and the intake's configuration."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select

from relais.channels.email.ack import AckTemplates
from relais.channels.email.ingest import IntakeConfig
from relais.channels.email.intent_store import IntentStore
from relais.channels.email.models import Mailbox
from relais.channels.email.repository import MailboxRef
from relais.channels.email.rule_store import RuleStore
from relais.channels.email.rules import RuleSet
from relais.config import MailboxSettings, MailSettings, Settings
from relais.conversations.attachments import AttachmentStore
from relais.core.clock import utcnow
from relais.core.db import Database, UnitOfWork
from relais.routing.events import QueueChanged
from relais.routing.models import Queue
from relais.routing.queues import RoutingRules


def mail_domain(settings: Settings) -> str:
    """The domain of our Message-IDs: set, else the public URL's host."""
    return settings.mail.domain or urlsplit(settings.public_url).hostname or "relais.invalid"


def mailboxes_of(settings: Settings) -> list[MailboxSettings]:
    """The configured mailboxes; without any, one named ``default`` (for ``relais mail import``
    and a listener that takes any recipient)."""
    if settings.mail.mailboxes:
        return list(settings.mail.mailboxes)
    return [MailboxSettings(name="default", address=f"support@{mail_domain(settings)}")]


def own_addresses(settings: Settings) -> frozenset[str]:
    mail: MailSettings = settings.mail
    return frozenset(
        [a.lower() for a in mail.own_addresses]
        + [m.address.lower() for m in mailboxes_of(settings)]
    )


def seed_rules(settings: Settings) -> RuleSet:
    """The setting's triage rules: they apply until an admin saves others (rule_store.py)."""
    rules = settings.mail.triage_rules
    return RuleSet.model_validate(rules) if rules else RuleSet()


def intake_config(settings: Settings, store: AttachmentStore, default_team_id: str) -> IntakeConfig:
    mail = settings.mail
    return IntakeConfig(
        store=store,
        domain=mail_domain(settings),
        default_team_id=default_team_id,
        own_addresses=own_addresses(settings),
        acknowledge=mail.acknowledge,
        ack_per_hour=mail.ack_per_sender_per_hour,
        ack_templates=AckTemplates.from_queues(mail.ack_templates),
        max_message_bytes=mail.max_message_bytes,
        max_attachment_bytes=max(settings.attachments.max_bytes, 25 * 1024 * 1024),
        rules=RuleStore(seed_rules(settings)),
        intent=IntentStore(threshold=mail.intent_threshold),
        sla=mail.sla,
    )


async def ensure_mailboxes(
    db: Database, settings: Settings, default_team_id: str
) -> dict[str, MailboxRef]:
    """The configured mailboxes as rows (created, or their address and queue updated), each
    with its queue (created for channel ``email`` with the default team when missing)."""

    async def work(uow: UnitOfWork) -> dict[str, MailboxRef]:
        out = {}
        for config in mailboxes_of(settings):
            queue = await uow.session.scalar(select(Queue).where(Queue.name == config.queue))
            if queue is None:
                # The same offer rules as the default queue: one setting for the whole ACD.
                rules = RoutingRules(
                    auto_accept=settings.routing.auto_accept,
                    reservation_timeout_s=settings.routing.reservation_timeout_s,
                )
                queue = Queue(
                    name=config.queue,
                    channels=["email"],
                    team_ids=[default_team_id],
                    rules=rules.model_dump(mode="json"),
                )
                uow.session.add(queue)
                await uow.session.flush()
                uow.emit(QueueChanged(queue_id=queue.id))
            row = await uow.session.scalar(select(Mailbox).where(Mailbox.name == config.name))
            if row is None:
                row = Mailbox(name=config.name, address=config.address.lower(), queue_id=queue.id)
                uow.session.add(row)
            elif row.address != config.address.lower() or row.queue_id != queue.id:
                row.address, row.queue_id, row.updated_at = (
                    config.address.lower(),
                    queue.id,
                    utcnow(),
                )
            await uow.session.flush()
            out[config.name] = MailboxRef.of(row)
        return out

    return await db.run(work)
