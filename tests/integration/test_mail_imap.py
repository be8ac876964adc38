"""The IMAP fetcher against a real Dovecot: IDLE, TLS, duplicates, a change of UIDVALIDITY, an
interrupted fetch, and only one process fetching a mailbox."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from relais.channels.email.imap import ImapFetcher
from relais.channels.email.ingest import Cursor, Stored, ingest
from relais.channels.email.models import InboundMail, Mailbox
from relais.channels.email.repository import MailboxRef
from tests.helpers import eventually
from tests.integration.dovecot import PASSWORD, USER, Dovecot, dovecot
from tests.integration.mail_helpers import MailStore, mail_store, make_mail


@pytest.fixture
async def imap() -> AsyncIterator[Dovecot]:
    async with dovecot() as server:
        yield server


def fetcher(
    ms: MailStore, server: Dovecot, *, holder: str = "a", intake: Any = None, **kw: Any
) -> ImapFetcher:
    async def store(raw: bytes, mailbox: MailboxRef, source: str, cursor: Cursor) -> Stored:
        return await ingest(ms.db, ms.config, raw, mailbox=mailbox, source=source, cursor=cursor)

    options: dict[str, Any] = {
        "host": server.host, "port": server.port, "username": USER, "password": PASSWORD,
        "tls": False, "lease_ttl_s": 3.0, "poll_s": 0.5,
    }  # fmt: skip
    options.update(kw)
    return ImapFetcher(ms.db, ms.support, intake or store, holder=holder, **options)


async def stored_ids(ms: MailStore) -> list[str]:
    async with ms.db.transaction(write=False) as uow:
        rows = await uow.session.scalars(select(InboundMail.message_id))
        return sorted(rows.all())


async def cursor_of(ms: MailStore) -> tuple[int | None, int]:
    async with ms.db.transaction(write=False) as uow:
        row = await uow.session.get(Mailbox, ms.support.id, populate_existing=True)
        assert row is not None
        return row.imap_uidvalidity, row.imap_last_uid


def mails(n: int, tag: str) -> list[bytes]:
    return [
        make_mail(subject=f"{tag} {i}", message_id=f"<{tag}-{i}@client.example>") for i in range(n)
    ]


async def test_idle_fetches_each_new_mail_once_and_leaves_it_unread(
    database_url: str, tmp_path: Path, imap: Dovecot
) -> None:
    async with mail_store(database_url, tmp_path) as ms:
        for raw in mails(2, "before"):
            await imap.append(raw)
        f = fetcher(ms, imap)
        await f.start()
        try:

            async def two() -> None:
                assert len(await stored_ids(ms)) == 2

            await eventually(two, 15)
            for raw in mails(3, "idle"):  # arrive while the fetcher waits in IDLE
                await imap.append(raw)
                await asyncio.sleep(0.2)
            await imap.append(mails(1, "idle")[0])  # the same Message-ID again: a duplicate

            async def five() -> None:
                assert len(await stored_ids(ms)) == 5
                assert (await cursor_of(ms))[1] == 6

            await eventually(five, 20)
        finally:
            await f.stop()
        assert f.fetched == 6
        assert await imap.unseen() == [1, 2, 3, 4, 5, 6]  # "keep": left unread


async def test_over_tls_with_the_servers_certificate_and_deleting_once_stored(
    sqlite_url: str, tmp_path: Path, imap: Dovecot
) -> None:
    async with mail_store(sqlite_url, tmp_path) as ms:
        for raw in mails(3, "tls"):
            await imap.append(raw)
        f = fetcher(
            ms, imap, port=imap.tls_port, tls=True, ca_file=imap.ca_file, after_fetch="delete"
        )
        await f.start()
        try:

            async def three() -> None:
                assert len(await stored_ids(ms)) == 3

            await eventually(three, 15)
        finally:
            await f.stop()
        # Deleted on the server once stored here; one the fetcher was stopped before deleting
        # is deleted when it starts again.
        await f.start()
        try:

            async def gone() -> None:
                client = await imap.client()
                try:
                    selected = await client.select("INBOX")
                    assert any(b"0 EXISTS" in bytes(line) for line in selected.lines)
                finally:
                    await client.logout()

            await eventually(gone, 15)
        finally:
            await f.stop()
        assert len(await stored_ids(ms)) == 3


async def test_a_new_uidvalidity_reads_the_folder_again_and_skips_what_is_stored(
    sqlite_url: str, tmp_path: Path, imap: Dovecot
) -> None:
    async with mail_store(sqlite_url, tmp_path) as ms:
        assert (await imap.command("CREATE", "Support")).result == "OK"
        first = mails(3, "v1")
        for raw in first:
            await imap.append(raw, "Support")
        f = fetcher(ms, imap, folder="Support", idle=False)
        await f.start()
        try:

            async def three() -> None:
                assert len(await stored_ids(ms)) == 3

            await eventually(three, 15)
            before = await cursor_of(ms)
            await f.stop()
            # The folder is deleted and made again: same mail plus one, UIDs from 1 again.
            await asyncio.sleep(1.1)  # UIDVALIDITY is a time in seconds
            assert (await imap.command("DELETE", "Support")).result == "OK"
            assert (await imap.command("CREATE", "Support")).result == "OK"
            for raw in [*first, *mails(1, "v2")]:
                await imap.append(raw, "Support")
            await f.start()

            async def four() -> None:
                assert len(await stored_ids(ms)) == 4
                after = await cursor_of(ms)
                assert after[0] != before[0] and after[1] == 4

            await eventually(four, 15)
        finally:
            await f.stop()


async def test_an_interrupted_fetch_resumes_without_loss_or_duplicate(
    sqlite_url: str, tmp_path: Path, imap: Dovecot
) -> None:
    async with mail_store(sqlite_url, tmp_path) as ms:
        sent = mails(8, "cut")
        for raw in sent:
            await imap.append(raw)
        calls = 0

        async def failing_store(raw: bytes, mb: MailboxRef, src: str, cur: Cursor) -> Stored:
            """The store goes away during the fourth message (as when the database restarts)."""
            nonlocal calls
            calls += 1
            if calls == 4:
                raise OSError("connection to the database lost")
            return await ingest(ms.db, ms.config, raw, mailbox=mb, source=src, cursor=cur)

        f = fetcher(ms, imap, intake=failing_store)
        await f.start()
        try:

            async def all_of_them() -> None:
                assert len(await stored_ids(ms)) == 8

            await eventually(all_of_them, 20)
        finally:
            await f.stop()
        assert calls == 9  # the fourth was tried twice, every other once
        # A fetcher killed in the middle, then another process's: still each mail once.
        for raw in mails(6, "kill"):
            await imap.append(raw)
        g = fetcher(ms, imap)
        await g.start()

        async def some() -> None:
            assert len(await stored_ids(ms)) >= 10

        await eventually(some, 20)
        await g.stop()
        h = fetcher(ms, imap, holder="b")
        await h.start()
        try:

            async def fourteen() -> None:
                assert len(await stored_ids(ms)) == 14
                assert (await cursor_of(ms))[1] == 14

            await eventually(fourteen, 20)
        finally:
            await h.stop()
        async with ms.db.transaction(write=False) as uow:
            uids = (await uow.session.scalars(select(InboundMail.imap_uid))).all()
        assert sorted(uids) == list(range(1, 15))


async def test_only_one_process_fetches_a_mailbox_and_another_takes_over(
    sqlite_url: str, tmp_path: Path, imap: Dovecot
) -> None:
    async with mail_store(sqlite_url, tmp_path) as ms:
        a, b = fetcher(ms, imap, holder="a"), fetcher(ms, imap, holder="b")
        await a.start()
        await asyncio.sleep(0.3)
        await b.start()
        try:
            for raw in mails(4, "one"):
                await imap.append(raw)

            async def four() -> None:
                assert len(await stored_ids(ms)) == 4

            await eventually(four, 15)
            assert (a.fetched, b.fetched) == (4, 0)
            await a.stop()  # releases the lease: b takes over
            for raw in mails(2, "two"):
                await imap.append(raw)

            async def six() -> None:
                assert len(await stored_ids(ms)) == 6

            await eventually(six, 20)
            assert b.fetched == 2
        finally:
            await a.stop()
            await b.stop()
