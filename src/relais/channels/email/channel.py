"""The e-mail channel in a running process: the listener, the IMAP fetchers, the sender.

Built by the composition root (app.py) when anything of ``RELAIS_MAIL__*`` asks for it; every
process runs the same parts, and the leases decide which one fetches a mailbox or sends.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket

from relais.channels.email.imap import ImapFetcher
from relais.channels.email.ingest import Cursor, IntakeConfig, Stored, ingest
from relais.channels.email.parse import Address
from relais.channels.email.repository import MailboxRef
from relais.channels.email.sender import MailSender, Relay
from relais.channels.email.setup import (
    ensure_mailboxes,
    intake_config,
    mail_domain,
    mailboxes_of,
)
from relais.channels.email.smtp_server import MailListener
from relais.config import Settings
from relais.conversations.attachments import AttachmentStore
from relais.core.bus import Bus
from relais.core.db import Database

log = logging.getLogger(__name__)


def mail_configured(settings: Settings) -> bool:
    mail = settings.mail
    return bool(mail.mailboxes or mail.listen or mail.smtp_host)


class MailChannel:
    def __init__(self, settings: Settings, db: Database, bus: Bus, store: AttachmentStore) -> None:
        self.settings = settings
        self.db = db
        self.bus = bus
        self.store = store
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"[:64]
        self.mailboxes: dict[str, MailboxRef] = {}
        self.config: IntakeConfig | None = None
        self.sender: MailSender | None = None
        self.listener: MailListener | None = None
        self.fetchers: list[ImapFetcher] = []

    async def intake(
        self, raw: bytes, mailbox: MailboxRef, source: str, cursor: Cursor | None = None
    ) -> Stored:
        assert self.config is not None
        stored = await ingest(
            self.db, self.config, raw, mailbox=mailbox, source=source, cursor=cursor
        )
        if stored.acknowledged and self.sender is not None:
            self.sender.wake()
        return stored

    async def start(self, default_team_id: str) -> None:
        settings, mail = self.settings, self.settings.mail
        self.mailboxes = await ensure_mailboxes(self.db, settings, default_team_id)
        self.config = intake_config(settings, self.store, default_team_id)
        # An admin saved rules, the learner stored a model: read them again.
        self.bus.subscribe(self.config.rules.on_event)
        self.bus.subscribe(self.config.intent.on_event)
        first = self.mailboxes[mailboxes_of(settings)[0].name]
        relay = None
        if mail.smtp_host:
            relay = Relay(
                host=mail.smtp_host,
                port=mail.smtp_port,
                tls=mail.smtp_tls,
                username=mail.smtp_username,
                password=mail.smtp_password,
                ca_file=mail.smtp_ca_file,
                timeout_s=mail.smtp_timeout_s,
            )
        self.sender = MailSender(
            self.db,
            self.store,
            holder=self.holder,
            domain=mail_domain(settings),
            relay=relay,
            transcript_sender=Address(first.name, first.address),
            transcript_mailbox_id=first.id,
            poll_s=mail.outbox_poll_s,
            retry_base_s=mail.retry_base_s,
            retry_max_s=mail.retry_max_s,
            lease_ttl_s=mail.lease_ttl_s,
        )
        self.bus.subscribe(self.sender.on_event)
        await self.sender.start()
        if mail.listen:
            host, _, port = mail.listen.rpartition(":")
            self.listener = MailListener(
                self.intake,
                self.mailboxes,
                host=host or "127.0.0.1",
                port=int(port),
                lmtp=mail.lmtp,
                max_bytes=mail.max_message_bytes,
                hostname=mail_domain(settings),
            )
            await self.listener.start()
        for box in mail.mailboxes:
            if not box.imap_host:
                continue
            fetcher = ImapFetcher(
                self.db,
                self.mailboxes[box.name],
                self.intake,
                holder=self.holder,
                host=box.imap_host,
                port=box.imap_port,
                username=box.imap_username or box.address,
                password=box.imap_password or "",
                folder=box.imap_folder,
                tls=box.imap_tls,
                ca_file=box.imap_ca_file,
                after_fetch=box.after_fetch,
                idle=box.idle,
                poll_s=box.poll_s,
                lease_ttl_s=mail.lease_ttl_s,
            )
            await fetcher.start()
            self.fetchers.append(fetcher)

    async def stop(self) -> None:
        for fetcher in self.fetchers:
            await fetcher.stop()
        self.fetchers = []
        if self.listener is not None:
            await self.listener.stop()
        if self.sender is not None:
            await self.sender.stop()
