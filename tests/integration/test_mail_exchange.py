"""The whole mail exchange through a running Relais: a customer writes over SMTP (a real
aiosmtplib client into the aiosmtpd listener) or into an IMAP mailbox (a real Dovecot), the agent's
desk sees it, the acknowledgement and the agent's reply leave through a real SMTP server (an
aiosmtpd sink), the customer's answer threads back. How fast mail reaches the desk is
bench/mail_latency.py's to measure; these tests check that it does, every time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import select

from relais.channels.email.models import OutboundMail
from relais.channels.email.parse import ParsedMail, parse_message
from tests.conftest import LiveServer, free_port
from tests.helpers import Socket, eventually, login, new_visitor, seed_agents
from tests.integration.dovecot import PASSWORD, USER, dovecot
from tests.integration.mail_helpers import SUPPORT, mail_settings, make_mail

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f"
    b"\x15\xc4\x89\x00\x00\x00\rIDATx\xdac\xfc\xcf\xc0P\x0f\x00\x04\x85\x01\x80\x84\xa9\x8c!\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


@dataclass
class Sink:
    """A real SMTP server that keeps what it is given."""

    port: int
    received: list[tuple[str, list[str], ParsedMail]] = field(default_factory=list)
    server: asyncio.Server | None = None

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        self.received.append(
            (envelope.mail_from or "", list(envelope.rcpt_tos), parse_message(raw))
        )
        return "250 OK"

    sessions: list[SMTP] = field(default_factory=list)

    def _session(self) -> SMTP:
        self.sessions.append(SMTP(self))
        return self.sessions[-1]

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(self._session, "127.0.0.1", self.port)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            for session in self.sessions:
                if session.transport is not None:
                    session.transport.close()
            await self.server.wait_closed()

    async def wait(self, predicate: Any, timeout: float = 10.0) -> ParsedMail:
        async def check() -> ParsedMail:
            for _, _, mail in self.received:
                if predicate(mail):
                    return mail
            raise AssertionError(f"not among {[m.subject for _, _, m in self.received]}")

        return await eventually(check, timeout)


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    s = Sink(free_port())
    await s.start()
    yield s
    await s.stop()


async def mail_server(database_url: str, tmp_path: Path, **mail: Any) -> LiveServer:
    live = LiveServer(mail_settings(database_url, tmp_path, **mail))
    await seed_agents(live.settings)
    await live.start()
    return live


def relay(port: int) -> dict[str, Any]:
    return {"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_tls": "none",
            "outbox_poll_s": 0.2, "retry_base_s": 0.2, "retry_max_s": 0.5}  # fmt: skip


async def send(port: int, raw: bytes, to: str = SUPPORT) -> None:
    await aiosmtplib.send(
        raw, sender="claire@client.example", recipients=[to], hostname="127.0.0.1", port=port
    )


def message_frame(subject_word: str) -> Any:
    return lambda f: f["type"] == "message" and subject_word in f["message"]["body"]


async def arrives_once_each(desk: Socket, agent: Any, words: list[str]) -> None:
    """Each probe is one message on the desk's socket, each in its own e-mail conversation."""
    frames = [await desk.wait_for(message_frame(word), 20) for word in words]
    conversations = {f["message"]["conversation_id"] for f in frames}
    assert len(conversations) == len(words)
    for conversation_id in conversations:
        got = (await agent.get(f"/api/v1/conversations/{conversation_id}")).json()
        assert got["channel"] == "email"
    seen = [f for f in desk.of_type("message") if any(w in f["message"]["body"] for w in words)]
    assert len(seen) == len(words)  # none twice


async def test_a_mail_conversation_over_smtp_from_arrival_to_the_agents_reply(
    database_url: str, tmp_path: Path, sink: Sink
) -> None:
    listen = free_port()
    server = await mail_server(
        database_url, tmp_path, listen=f"127.0.0.1:{listen}", **relay(sink.port)
    )
    try:
        alice = await login(server.base, "alice@test.example")
        await alice.presence("available")
        desk = await alice.ws()
        first = make_mail(subject="Parcel 1042 never arrived", text="Hello, parcel 1042 is late.")
        await send(listen, first)
        frame = await desk.wait_for(message_frame("parcel 1042"), 10)
        conversation_id = frame["message"]["conversation_id"]
        got = (await alice.get(f"/api/v1/conversations/{conversation_id}")).json()
        assert got["channel"] == "email" and got["subject"] == "Parcel 1042 never arrived"

        ack = await sink.wait(lambda m: "We have received" in m.subject)
        assert ack.subject.startswith("[#") and ack.headers.get("Auto-Submitted") == "auto-replied"
        assert ack.in_reply_to == parse_message(first).message_id
        reference = ack.subject.split("]")[0] + "]"

        # The agent answers in the desk's view, with a file: it leaves by mail.
        async def mine() -> None:
            got = (await alice.get(f"/api/v1/conversations/{conversation_id}")).json()
            assert got["assignee_id"] == alice.id

        await eventually(mine, 10)
        upload = await alice.client.post(
            "/api/v1/attachments",
            data={"conversation_id": conversation_id},
            files={"file": ("label.png", PNG, "image/png")},
            headers=alice.headers(),
        )
        assert upload.status_code == 201, upload.text
        r = await alice.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            {"client_id": "r1", "body": "It is on its way, **sorry**.",
             "attachment_ids": [upload.json()["id"]]},
        )  # fmt: skip
        assert r.status_code == 201, r.text
        reply = await sink.wait(lambda m: m.subject.startswith("Re: "))
        assert reply.subject == f"Re: {reference} Parcel 1042 never arrived"
        assert reply.in_reply_to == parse_message(first).message_id
        assert reply.references == (parse_message(first).message_id,)
        assert reply.message_id.endswith("@relais.example>")
        assert reply.from_ is not None and reply.from_.address == SUPPORT
        assert reply.headers.get("Auto-Submitted") is None
        assert "It is on its way" in reply.text and "<strong>sorry</strong>" in (reply.html or "")
        assert [(a.filename, a.content_type) for a in reply.attachments] == [
            ("label.png", "image/png")
        ]
        assert [a.data() for a in reply.attachments] == [PNG]
        envelope = next(e for e in sink.received if e[2].message_id == reply.message_id)
        assert envelope[:2] == (SUPPORT, ["claire@client.example"])

        # The customer answers the reply: same conversation, no second acknowledgement.
        answer = make_mail(
            subject=reply.subject, text="Thanks, parcel arrived!",
            in_reply_to=reply.message_id, references=[*reply.references, reply.message_id],
        )  # fmt: skip
        await send(listen, answer)
        frame = await desk.wait_for(message_frame("parcel arrived"), 10)
        assert frame["message"]["conversation_id"] == conversation_id
        await send(listen, answer)  # the MTA delivers it twice: stored once
        await asyncio.sleep(0.5)
        messages = (await alice.get(f"/api/v1/conversations/{conversation_id}/messages")).json()
        assert [m["author_kind"] for m in messages if m["author_kind"] != "system"] == [
            "visitor", "agent", "visitor",
        ]  # fmt: skip
        assert len([m for _, _, m in sink.received if "We have received" in m.subject]) == 1

        with pytest.raises(aiosmtplib.SMTPRecipientsRefused):
            await send(listen, make_mail(to="nobody@relais.example"), to="nobody@relais.example")
        await desk.close()
        await alice.close()
    finally:
        await server.stop()


async def test_every_mail_sent_over_smtp_reaches_the_desk(
    sqlite_url: str, tmp_path: Path, sink: Sink
) -> None:
    listen = free_port()
    server = await mail_server(
        sqlite_url, tmp_path, listen=f"127.0.0.1:{listen}", **relay(sink.port)
    )
    try:
        bruno = await login(server.base, "bruno@test.example")
        await bruno.presence("available")
        desk = await bruno.ws()
        words = [f"SMTP probe {i}." for i in range(10)]
        for i, word in enumerate(words):
            await send(listen, make_mail(sender=f"c{i}@client.example", subject=f"Question {i}",
                                         text=word))  # fmt: skip
        await arrives_once_each(desk, bruno, words)
        await desk.close()
        await bruno.close()
    finally:
        await server.stop()


async def test_every_mail_appended_to_the_imap_mailbox_reaches_the_desk_through_idle(
    sqlite_url: str, tmp_path: Path, sink: Sink
) -> None:
    async with dovecot() as imap:
        box = {"name": "support", "address": SUPPORT, "queue": "E-mail", "imap_host": imap.host,
               "imap_port": imap.port, "imap_tls": False, "imap_username": USER,
               "imap_password": PASSWORD}  # fmt: skip
        server = await mail_server(
            sqlite_url, tmp_path, mailboxes=[box], lease_ttl_s=6.0, **relay(sink.port)
        )
        try:
            bruno = await login(server.base, "bruno@test.example")
            await bruno.presence("available")
            desk = await bruno.ws()
            words = [f"IDLE probe {i}." for i in range(5)]
            for i, word in enumerate(words):
                await imap.append(make_mail(sender=f"i{i}@client.example", subject=f"Idle {i}",
                                            text=word))  # fmt: skip
            await arrives_once_each(desk, bruno, words)
            await desk.close()
            await bruno.close()
        finally:
            await server.stop()


async def test_unreachable_relay_retries_with_back_off_and_delivers_later(
    sqlite_url: str, tmp_path: Path
) -> None:
    listen, down = free_port(), free_port()
    server = await mail_server(sqlite_url, tmp_path, listen=f"127.0.0.1:{listen}", **relay(down))
    try:
        await send(listen, make_mail(subject="Nobody home"))
        db = server.runtime.db

        async def tried_twice() -> OutboundMail:
            async with db.transaction(write=False) as uow:
                row = await uow.session.scalar(select(OutboundMail))
            assert row is not None and row.state == "queued" and row.attempts >= 2
            assert row.last_error and "Connect" in row.last_error
            return row

        await eventually(tried_twice, 10)
        late = Sink(down)  # the relay comes back
        await late.start()
        try:
            ack = await late.wait(lambda m: "Nobody home" in m.subject, 10)

            async def marked_sent() -> None:  # the relay's 250 comes before our commit
                async with db.transaction(write=False) as uow:
                    row = await uow.session.scalar(select(OutboundMail))
                assert row is not None and row.state == "sent"
                assert row.message_id == ack.message_id

            await eventually(marked_sent, 10)
        finally:
            await late.stop()
    finally:
        await server.stop()


async def test_the_transcript_a_visitor_asked_for_is_mailed(
    sqlite_url: str, tmp_path: Path, sink: Sink
) -> None:
    server = await mail_server(sqlite_url, tmp_path, **relay(sink.port))
    try:
        alice = await login(server.base, "alice@test.example")
        await alice.presence("available")
        visitor = await new_visitor(server.base, lang="fr")
        ws: Socket = await visitor.ws()
        ack = await ws.send_message(None, "Bonjour, où est mon colis ?")
        conversation_id = ack["message"]["conversation_id"]
        r = await visitor.post(
            f"/api/v1/conversations/{conversation_id}/transcript", {"email": "Me@Example.com"}
        )
        assert r.status_code == 202
        mail = await sink.wait(lambda m: "Transcription" in m.subject)
        assert mail.to[0].address == "me@example.com"
        assert "où est mon colis" in mail.text and mail.subject.startswith("[#")
        await ws.close()
        await visitor.close()
        await alice.close()
    finally:
        await server.stop()
