"""The SMTP (or LMTP) listener an MTA delivers to: each message is stored before it is accepted.

``250`` is said only once ``ingest`` has committed; on any failure the MTA hears a ``451`` and
keeps the message to try again, so nothing is lost between the two. Recipients are matched to
the mailboxes by address (another is refused with ``550``); with the default mailbox alone
(no mailboxes configured) every recipient goes to it. The listener is meant for the MTA in front
of Relais on a private network: it does not authenticate or offer TLS itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session

from relais.channels.email.ingest import Stored
from relais.channels.email.repository import MailboxRef

log = logging.getLogger(__name__)

Intake = Callable[[bytes, MailboxRef, str], Awaitable[Stored]]


def _address(value: str) -> str:
    return value.strip().strip("<>").strip().lower()


class Handler:
    """aiosmtpd's handler: RCPT picks the mailbox, DATA stores the message once per mailbox."""

    def __init__(self, intake: Intake, mailboxes: dict[str, MailboxRef], *, lmtp: bool) -> None:
        self.intake = intake
        self.by_address = {m.address.lower(): m for m in mailboxes.values()}
        self.catch_all = next(iter(mailboxes.values())) if list(mailboxes) == ["default"] else None
        self.source = "lmtp" if lmtp else "smtp"
        self.lmtp = lmtp

    def mailbox_of(self, address: str) -> MailboxRef | None:
        return self.by_address.get(_address(address)) or self.catch_all

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.mailbox_of(address) is None:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if isinstance(envelope.content, bytes) and not raw:
            raw = envelope.content
        replies, seen = [], set()
        for rcpt in envelope.rcpt_tos:
            mailbox = self.mailbox_of(rcpt)
            if mailbox is None:  # refused at RCPT already
                continue
            if mailbox.id in seen:
                replies.append("250 2.0.0 Stored")
                continue
            seen.add(mailbox.id)
            try:
                stored = await self.intake(raw, mailbox, self.source)
            except Exception:
                log.exception("mail for %s could not be stored; the MTA will retry", mailbox.name)
                replies.append("451 4.3.0 Not stored, try again later")
                continue
            replies.append(f"250 2.0.0 Stored as {stored.state}")
        if not replies:
            return "554 5.5.1 No valid recipients"
        if self.lmtp:  # RFC 2033: one reply per recipient
            return "\r\n".join(replies)
        failed = [r for r in replies if not r.startswith("250")]
        return failed[0] if failed else replies[0]


class MailListener:
    def __init__(
        self,
        intake: Intake,
        mailboxes: dict[str, MailboxRef],
        *,
        host: str,
        port: int,
        lmtp: bool = False,
        max_bytes: int,
        hostname: str | None = None,
    ) -> None:
        self.handler = Handler(intake, mailboxes, lmtp=lmtp)
        self.host, self.port = host, port
        self.lmtp = lmtp
        self.max_bytes = max_bytes
        self.hostname = hostname
        self._server: asyncio.Server | None = None
        self._sessions: set[SMTP] = set()

    def _protocol(self) -> SMTP:
        kind: Any = LMTP if self.lmtp else SMTP
        protocol: SMTP = kind(
            self.handler,
            data_size_limit=self.max_bytes,
            enable_SMTPUTF8=True,
            decode_data=False,
            hostname=self.hostname,
            ident="Relais",
        )
        self._sessions = {p for p in self._sessions if p.transport is not None} | {protocol}
        return protocol

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, self.host, self.port)
        log.info("%s listener on %s:%d", "LMTP" if self.lmtp else "SMTP", self.host, self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for session in self._sessions:  # close() leaves open connections open
                if session.transport is not None:
                    session.transport.close()
            self._sessions.clear()
            await self._server.wait_closed()
            self._server = None
