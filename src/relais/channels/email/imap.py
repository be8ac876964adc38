"""The IMAP fetcher: one per mailbox, in the one process holding that mailbox's lease.

Each message is fetched by UID (``BODY.PEEK[]``: it stays unread on the server), stored by
``ingest`` in a transaction that also moves the mailbox's cursor to its UID, fenced by the
lease; only then is anything done on the server (``\\Seen`` or delete, as configured). So an
interrupted fetch resumes at the first UID not committed: nothing lost, nothing twice (and a
Message-ID stored already is a duplicate anyway). UIDs count within one UIDVALIDITY: when the
server changes it, the cursor starts again from zero and Message-IDs skip what is stored.

New mail is waited for with IDLE when the server has it (re-issued every few seconds, which
also renews the lease), by polling otherwise. Any error closes the connection and starts again
after a growing pause; a message that cannot be stored stops nothing behind it (``ingest``
keeps it as unreadable).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path

import aioimaplib

from relais.channels.email.ingest import Cursor, Stored
from relais.channels.email.models import Mailbox
from relais.channels.email.repository import MailboxRef
from relais.core.db import Database
from relais.routing.lease import StoreLease

log = logging.getLogger(__name__)
STOP_WITHIN_S = 10.0

Intake = Callable[[bytes, MailboxRef, str, Cursor], Awaitable[Stored]]

_UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]")
_FETCH_UID = re.compile(rb"UID (\d+)")
_BATCH = 50  # UIDs listed per round; each message is fetched and stored on its own


class ImapError(Exception):
    pass


def _ok(response: aioimaplib.Response, what: str) -> aioimaplib.Response:
    if response.result != "OK":
        raise ImapError(f"{what}: {response.result} {response.lines[-1:]!r}")
    return response


class ImapFetcher:
    def __init__(
        self,
        db: Database,
        mailbox: MailboxRef,
        intake: Intake,
        *,
        holder: str,
        host: str,
        port: int,
        username: str,
        password: str,
        folder: str = "INBOX",
        tls: bool = True,
        ca_file: Path | None = None,
        after_fetch: str = "keep",
        idle: bool = True,
        poll_s: float = 60.0,
        lease_ttl_s: float = 30.0,
        timeout_s: float = 30.0,
    ) -> None:
        self.db = db
        self.mailbox = mailbox
        self.intake = intake
        self.lease = StoreLease(db, f"mail:{mailbox.id}", holder, ttl_s=lease_ttl_s)
        self.host, self.port, self.folder = host, port, folder
        self.username, self.password = username, password
        self.tls, self.ca_file = tls, ca_file
        self.after_fetch = after_fetch
        self.use_idle = idle
        self.poll_s = poll_s
        self.renew_s = lease_ttl_s / 3
        self.timeout_s = timeout_s
        self.fetched = 0  # messages stored by this fetcher (tests and logs)
        self._task: asyncio.Task[None] | None = None
        self._client: aioimaplib.IMAP4 | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"imap-{self.mailbox.name}")

    async def stop(self) -> None:
        # Bounded: a fetcher stuck inside the IMAP library must not hold the shutdown.
        if self._task is not None:
            self._task.cancel()
            done, _ = await asyncio.wait({self._task}, timeout=STOP_WITHIN_S)
            if not done:
                log.warning("mailbox %s: fetcher still busy after %.0f s; left behind",
                            self.mailbox.name, STOP_WITHIN_S)  # fmt: skip
            self._task = None
        await self._close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.lease.release(), STOP_WITHIN_S)

    async def _run(self) -> None:
        pause = 1.0
        while True:
            try:
                if await self.lease.acquire():
                    await self._session()
                    pause = 1.0
                else:
                    await asyncio.sleep(self.renew_s)
                    continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("mailbox %s: %s; again in %.0f s", self.mailbox.name, exc, pause)
            await self._close()
            await asyncio.sleep(pause)
            pause = min(pause * 2, 60.0)

    def _connect(self) -> aioimaplib.IMAP4:
        if not self.tls:
            return aioimaplib.IMAP4(host=self.host, port=self.port, timeout=self.timeout_s)
        context = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
        return aioimaplib.IMAP4_SSL(
            host=self.host, port=self.port, timeout=self.timeout_s, ssl_context=context
        )

    async def _close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        with contextlib.suppress(Exception):
            if client.has_pending_idle():
                client.idle_done()
            await asyncio.wait_for(client.logout(), 2)

    async def _session(self) -> None:
        client = self._client = self._connect()
        await client.wait_hello_from_server()
        _ok(await client.login(self.username, self.password), "LOGIN")
        await client.protocol.capability()  # those after login (UIDPLUS...), not the greeting's
        selected = _ok(await client.select(self.folder), "SELECT")
        uidvalidity = _uidvalidity(selected)
        last = await self._cursor(uidvalidity)
        if last and self.after_fetch != "keep":
            # Stored here but not yet marked there (the process stopped in between).
            await self._after(client, f"1:{last}")
        idle = self.use_idle and client.has_capability("IDLE")
        log.info("mailbox %s: fetching (%s)", self.mailbox.name, "IDLE" if idle else "polling")
        while True:
            await self._fetch_new(client, uidvalidity)
            if idle:
                await self._idle(client)
            else:
                await asyncio.sleep(min(self.poll_s, self.renew_s))
            if not await self.lease.acquire():
                log.info("mailbox %s: lease lost, stopping", self.mailbox.name)
                return

    async def _idle(self, client: aioimaplib.IMAP4) -> None:
        """Wait for the server to say something (new mail), at most ``renew_s``."""
        idle = await client.idle_start(timeout=self.renew_s)
        with contextlib.suppress(TimeoutError):
            await client.wait_server_push(timeout=self.renew_s + 5)
        client.idle_done()
        await asyncio.wait_for(idle, self.timeout_s)

    async def _cursor(self, uidvalidity: int) -> int:
        async with self.db.transaction(write=False) as uow:
            row = await uow.session.get(Mailbox, self.mailbox.id)
        if row is None:
            raise ImapError(f"mailbox {self.mailbox.name} is not in the store")
        if row.imap_uidvalidity != uidvalidity:
            if row.imap_uidvalidity is not None:
                log.warning(
                    "mailbox %s: UIDVALIDITY %s -> %s, reading it all again (duplicates skipped)",
                    self.mailbox.name, row.imap_uidvalidity, uidvalidity,
                )  # fmt: skip
            return 0
        return row.imap_last_uid

    async def _fetch_new(self, client: aioimaplib.IMAP4, uidvalidity: int) -> None:
        while True:
            last = await self._cursor(uidvalidity)
            found = _ok(await client.uid_search(f"UID {last + 1}:*", charset=None), "UID SEARCH")
            # "n:*" always matches the last message, even below n: keep what is new.
            uids = sorted(u for u in _numbers(found) if u > last)[:_BATCH]
            if not uids:
                return
            for uid in uids:
                raw = await self._fetch(client, uid)
                cursor = Cursor(self.mailbox.id, uidvalidity, uid, fence=self.lease.fence)
                if raw is None:  # expunged meanwhile: nothing to store, move past it
                    log.info("mailbox %s: UID %d gone before it was read", self.mailbox.name, uid)
                    await self._skip(cursor)
                    continue
                await self.intake(raw, self.mailbox, "imap", cursor)
                self.fetched += 1
                await self._after(client, str(uid))

    async def _fetch(self, client: aioimaplib.IMAP4, uid: int) -> bytes | None:
        response = _ok(await client.uid("fetch", str(uid), "(UID BODY.PEEK[])"), "UID FETCH")
        for i, line in enumerate(response.lines):
            if isinstance(line, bytearray) and i > 0 and _FETCH_UID.search(response.lines[i - 1]):
                return bytes(line)
        return None

    async def _skip(self, cursor: Cursor) -> None:
        from relais.channels.email.ingest import _advance

        async with self.db.transaction() as uow:
            await _advance(uow.session, cursor)

    async def _after(self, client: aioimaplib.IMAP4, uids: str) -> None:
        """What the settings ask done on the server, once the messages are committed here."""
        if self.after_fetch == "seen":
            _ok(await client.uid("store", uids, "+FLAGS.SILENT", "(\\Seen)"), "UID STORE")
        elif self.after_fetch == "delete":
            _ok(await client.uid("store", uids, "+FLAGS.SILENT", "(\\Deleted)"), "UID STORE")
            if client.has_capability("UIDPLUS"):
                _ok(await client.uid("expunge", uids), "UID EXPUNGE")
            else:
                _ok(await client.expunge(), "EXPUNGE")


def _uidvalidity(response: aioimaplib.Response) -> int:
    for line in response.lines:
        found = _UIDVALIDITY.search(bytes(line))
        if found:
            return int(found.group(1))
    raise ImapError("the server gave no UIDVALIDITY")


def _numbers(response: aioimaplib.Response) -> list[int]:
    out: list[int] = []
    for line in response.lines[:-1]:
        text = bytes(line).decode("ascii", "replace")
        out.extend(int(t) for t in text.replace("SEARCH", " ").split() if t.isdigit())
    return out
