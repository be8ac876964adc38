"""The outbox's sender: one process (the holder of the ``mail-outbox`` lease) feeds the outbox
from the store and sends what is due through the SMTP relay, with ``aiosmtplib``.

A message leaves the outbox only as ``sent`` (the relay took it) or ``failed`` (refused for
good: a 5xx answer); anything else (the relay unreachable, a timeout, a 4xx) schedules another
attempt after ``retry_delay`` (doubling, capped), for as long as it takes. The envelope sender is
the mailbox's address, so that bounces come back to a mailbox and mark the message ``bounced``.
A send whose answer is lost is sent again: the same bytes and Message-ID, which receivers
deduplicate.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import aiosmtplib
from sqlalchemy import select, update

from relais.channels.email.domain import retry_delay
from relais.channels.email.loop import LeasedLoop
from relais.channels.email.models import OutboundMail
from relais.channels.email.outbox import do_feed_replies, do_feed_transcripts
from relais.channels.email.parse import Address
from relais.conversations.attachments import AttachmentStore
from relais.conversations.events import MessageCreated
from relais.conversations.models import TranscriptRequest
from relais.core.bus import Event
from relais.core.clock import utcnow
from relais.core.db import Database
from relais.routing.lease import StoreLease

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Relay:
    host: str
    port: int
    tls: str = "starttls"  # starttls, tls, none
    username: str | None = None
    password: str | None = None
    ca_file: Path | None = None
    timeout_s: float = 30.0


class PermanentFailure(Exception):
    pass


async def deliver(relay: Relay, sender: str, recipients: list[str], raw: bytes) -> None:
    """Hand one message to the relay; ``PermanentFailure`` when it refuses it for good."""
    context = None
    if relay.tls != "none":
        context = ssl.create_default_context(cafile=str(relay.ca_file) if relay.ca_file else None)
    try:
        await aiosmtplib.send(
            raw,
            sender=sender,
            recipients=recipients,
            hostname=relay.host,
            port=relay.port,
            username=relay.username,
            password=relay.password,
            use_tls=relay.tls == "tls",
            start_tls=relay.tls == "starttls",
            tls_context=context,
            timeout=relay.timeout_s,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [r.code for r in exc.recipients]
        if codes and all(code >= 500 for code in codes):
            raise PermanentFailure(str(exc)) from exc
        raise
    except aiosmtplib.SMTPResponseException as exc:
        if exc.code >= 500 and not isinstance(exc, aiosmtplib.SMTPConnectResponseError):
            raise PermanentFailure(f"{exc.code} {exc.message}") from exc
        raise


class MailSender:
    def __init__(
        self,
        db: Database,
        store: AttachmentStore,
        *,
        holder: str,
        domain: str,
        relay: Relay | None,
        transcript_sender: Address,
        transcript_mailbox_id: str | None,
        poll_s: float = 5.0,
        retry_base_s: float = 30.0,
        retry_max_s: float = 3600.0,
        lease_ttl_s: float = 30.0,
    ) -> None:
        self.db = db
        self.store = store
        # One process at a time feeds the outbox and sends: the holder of this lease.
        self._loop = LeasedLoop(
            db, "mail-outbox", self._step, holder=holder, poll_s=poll_s, lease_ttl_s=lease_ttl_s
        )
        self.lease = self._loop.lease
        self.domain = domain
        self.relay = relay
        self.transcript_sender = transcript_sender
        self.transcript_mailbox_id = transcript_mailbox_id
        self.retry_base_s, self.retry_max_s = retry_base_s, retry_max_s
        self.sent = 0

    def on_event(self, event: Event) -> None:
        """An agent wrote somewhere: maybe in an e-mail conversation, so feed now."""
        if isinstance(event, MessageCreated) and event.message.author_kind == "agent":
            self._loop.wake()

    def wake(self) -> None:
        self._loop.wake()

    async def start(self) -> None:
        await self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def _step(self, lease: StoreLease) -> bool:
        await self.run_once()
        return False  # then wait for a wake (an agent's message) or the next poll

    async def run_once(self) -> int:
        """Feed the outbox, then send what is due. Returns the number of messages sent."""
        async with self.db.transaction() as uow:
            await self.lease.fence(uow.session)
            await do_feed_replies(uow, self.store, domain=self.domain)
            await do_feed_transcripts(
                uow,
                self.store,
                domain=self.domain,
                sender=self.transcript_sender,
                mailbox_id=self.transcript_mailbox_id,
            )
        if self.relay is None:
            return 0
        sent = 0
        while True:
            async with self.db.transaction(write=False) as uow:
                due = (
                    await uow.session.scalars(
                        select(OutboundMail)
                        .where(
                            OutboundMail.state == "queued",
                            OutboundMail.next_attempt_at <= utcnow(),
                        )
                        .order_by(OutboundMail.next_attempt_at)
                        .limit(20)
                    )
                ).all()
            if not due:
                return sent
            for mail in due:
                sent += await self._send(mail)

    async def _send(self, mail: OutboundMail) -> int:
        assert self.relay is not None
        error: str | None = None
        permanent = False
        try:
            raw = await asyncio.to_thread(self.store.path(mail.raw_key).read_bytes)
            await deliver(self.relay, mail.sender, list(mail.recipients or [mail.recipient]), raw)
        except PermanentFailure as exc:
            error, permanent = str(exc), True
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        now = utcnow()
        attempts = mail.attempts + 1
        values: dict[str, object] = {"attempts": attempts, "last_error": error}
        if error is None:
            values |= {"state": "sent", "sent_at": now, "next_attempt_at": None}
        elif permanent:
            values |= {"state": "failed", "failed_at": now, "next_attempt_at": None}
        else:
            delay = retry_delay(attempts, base_s=self.retry_base_s, max_s=self.retry_max_s)
            values["next_attempt_at"] = now + timedelta(seconds=delay)
        async with self.db.transaction() as uow:
            await self.lease.fence(uow.session)
            await uow.session.execute(
                update(OutboundMail)
                .where(OutboundMail.id == mail.id, OutboundMail.state == "queued")
                .values(**values)
            )
            if error is None and mail.transcript_request_id is not None:
                await uow.session.execute(
                    update(TranscriptRequest)
                    .where(TranscriptRequest.id == mail.transcript_request_id)
                    .values(sent_at=now)
                )
        if error is not None:
            log.warning("mail %s to %s: %s", mail.message_id, mail.recipient, error)
            return 0
        self.sent += 1
        return 1
