"""Helpers of the e-mail tests: a store with its mailboxes, mail written like clients write it."""

from __future__ import annotations

import email.utils
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Any

from relais.channels.email.ingest import IntakeConfig
from relais.channels.email.repository import MailboxRef
from relais.channels.email.setup import ensure_mailboxes, intake_config
from relais.config import Settings
from relais.conversations.attachments import AttachmentStore
from relais.core.bus import MemoryBus
from relais.core.db import Database
from relais.identity.service import get_or_create_team
from tests.conftest import make_settings

SUPPORT = "support@relais.example"


@dataclass
class MailStore:
    settings: Settings
    db: Database
    bus: MemoryBus
    store: AttachmentStore
    config: IntakeConfig
    mailboxes: dict[str, MailboxRef]
    team_id: str

    @property
    def support(self) -> MailboxRef:
        return self.mailboxes["support"]


def mail_settings(database_url: str, tmp_path: Path, **mail: Any) -> Settings:
    values: dict[str, Any] = {
        "mailboxes": [{"name": "support", "address": SUPPORT, "queue": "E-mail"}],
        "domain": "relais.example",
        **mail,
    }
    return make_settings(database_url, tmp_path, mail=values)


@asynccontextmanager
async def mail_store(database_url: str, tmp_path: Path, **mail: Any) -> AsyncIterator[MailStore]:
    settings = mail_settings(database_url, tmp_path, **mail)
    bus = MemoryBus()
    db = Database(settings.database_url, bus)
    try:
        team = await db.run(lambda uow: get_or_create_team(uow.session, settings.default_team))
        boxes = await ensure_mailboxes(db, settings, team.id)
        a = settings.attachments
        store = AttachmentStore(a.directory, max_bytes=a.max_bytes, allowed_types=a.allowed_types)
        yield MailStore(
            settings, db, bus, store, intake_config(settings, store, team.id), boxes, team.id
        )
    finally:
        await db.dispose()


def make_mail(
    *,
    sender: str = "Claire Martin <claire@client.example>",
    to: str = SUPPORT,
    subject: str = "My order",
    text: str = "Hello, where is my order?",
    html: str | None = None,
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    headers: dict[str, str] | None = None,
    attachments: Sequence[tuple[str, str, bytes]] = (),
) -> bytes:
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = email.utils.format_datetime(datetime.now(UTC))
    message["Message-ID"] = message_id or f"<{uuid.uuid4().hex}@client.example>"
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = " ".join(references)
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    for filename, content_type, data in attachments:
        maintype, _, subtype = content_type.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


def message_id_of(raw: bytes) -> str:
    from relais.channels.email.parse import parse_message

    return parse_message(raw).message_id
