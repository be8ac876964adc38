"""Received mail into the store, on SQLite and PostgreSQL: conversations, contacts, tasks of the
e-mail queue, acknowledgements, bounces, duplicates, and mail that can't be fully read."""

from __future__ import annotations

import tomllib
from pathlib import Path

from sqlalchemy import func, select

from relais.channels.email.ingest import ingest
from relais.channels.email.models import InboundMail, MailThread, OutboundMail
from relais.channels.email.outbox import do_enqueue, do_feed_replies
from relais.channels.email.parse import Address, parse_message
from relais.channels.email.repository import MailboxRef
from relais.contacts.models import Contact, Visitor
from relais.conversations.models import Attachment, Conversation, Message
from relais.routing.models import Queue, Task
from tests.integration.mail_helpers import SUPPORT, MailStore, mail_store, make_mail

CORPUS = Path(__file__).resolve().parents[1] / "data" / "mail"
EXPECTED = tomllib.loads((CORPUS / "expected.toml").read_text("utf-8"))
SISIMAI = Path(__file__).resolve().parents[3] / "shared" / "mail-corpus" / "sisimai"


async def _count(ms: MailStore, query: object) -> int:
    async with ms.db.transaction(write=False) as uow:
        return int(await uow.session.scalar(query) or 0)  # type: ignore[call-overload]  # a select


async def test_the_corpus_opens_conversations_only_for_mail_people_wrote(
    database_url: str, tmp_path: Path
) -> None:
    async with mail_store(database_url, tmp_path) as ms:
        states = {}
        for name in sorted(EXPECTED):
            raw = (CORPUS / name).read_bytes()
            stored = await ingest(ms.db, ms.config, raw, mailbox=ms.support, source="import")
            states[name] = stored
            expected = EXPECTED[name]["kind"]
            if expected == "none":
                assert stored.state in ("routed", "threaded", "duplicate"), name
            elif expected == "bounce":
                assert stored.state == "bounce", name
            else:
                assert stored.state == "automatic", name
            if expected != "none":
                assert not stored.acknowledged, name
        async with ms.db.transaction(write=False) as uow:
            tasks = (await uow.session.scalars(select(Task))).all()
            conversations = (await uow.session.scalars(select(Conversation))).all()
            queue = await uow.session.scalar(select(Queue).where(Queue.name == "E-mail"))
            acks = (
                await uow.session.scalars(
                    select(OutboundMail).where(OutboundMail.kind == "acknowledgement")
                )
            ).all()
            rows = (await uow.session.scalars(select(InboundMail))).all()
        routed = [s for s in states.values() if s.state == "routed"]
        assert queue is not None and len(conversations) == len(routed) == len(tasks)
        assert {c.channel for c in conversations} == {"email"}
        assert {(t.channel, t.queue_id, t.state) for t in tasks} == {("email", queue.id, "queued")}
        # Acknowledgements answer only mail that opened a conversation, never ourselves.
        routed_ids = {r.id for r in rows if r.state == "routed"}
        assert acks and {a.inbound_mail_id for a in acks} <= routed_ids
        assert SUPPORT not in {a.recipient for a in acks}
        # Every raw source is kept as it came.
        for row in rows:
            assert row.raw_key is not None
            assert ms.store.path(row.raw_key).read_bytes() == (
                next(
                    (CORPUS / n).read_bytes()
                    for n in EXPECTED
                    if parse_message((CORPUS / n).read_bytes()).message_id == row.message_id
                )
            )
        # Importing again stores nothing new.
        for name in sorted(EXPECTED):
            again = await ingest(
                ms.db, ms.config, (CORPUS / name).read_bytes(), mailbox=ms.support, source="imap"
            )
            assert again.state == "duplicate"
        assert await _count(ms, select(func.count()).select_from(InboundMail)) == len(rows)


async def test_sisimai_bounces_never_open_a_conversation(sqlite_url: str, tmp_path: Path) -> None:
    files = sorted(SISIMAI.glob("*.eml"))
    assert len(files) >= 300
    async with mail_store(sqlite_url, tmp_path) as ms:
        for path in files:
            stored = await ingest(
                ms.db, ms.config, path.read_bytes(), mailbox=ms.support, source="import"
            )
            assert stored.state in ("bounce", "automatic", "duplicate"), path.name
        assert await _count(ms, select(func.count()).select_from(Conversation)) == 0
        assert await _count(ms, select(func.count()).select_from(OutboundMail)) == 0


async def _reply_as_agent(ms: MailStore, conversation_id: str, body: str) -> OutboundMail:
    """What the desk does (an agent's message), then what the sender's process does (feed)."""
    from relais.conversations.service import _insert_message

    async with ms.db.transaction() as uow:
        conversation = await uow.session.get(Conversation, conversation_id)
        assert conversation is not None
        await _insert_message(
            uow, conversation, author_kind="agent", author_id=None, author_name="Alice",
            body=body, client_id=None, status="pending",
        )  # fmt: skip
    async with ms.db.transaction() as uow:
        assert await do_feed_replies(uow, ms.store, domain="relais.example") == 1
    async with ms.db.transaction(write=False) as uow:
        reply = await uow.session.scalar(
            select(OutboundMail)
            .where(OutboundMail.conversation_id == conversation_id, OutboundMail.kind == "reply")
            .order_by(OutboundMail.created_at.desc())
        )
        assert reply is not None
        return reply


async def test_answers_thread_by_message_id_and_by_a_reference_only_from_the_customer(
    database_url: str, tmp_path: Path
) -> None:
    async with mail_store(database_url, tmp_path) as ms:
        first = make_mail(subject="Where is my parcel?")
        stored = await ingest(ms.db, ms.config, first, mailbox=ms.support, source="smtp")
        assert stored.state == "routed" and stored.acknowledged
        conversation_id = stored.conversation_id
        assert conversation_id is not None
        reply = await _reply_as_agent(ms, conversation_id, "It left our warehouse today.")
        raw_reply = ms.store.path(reply.raw_key).read_bytes()
        sent = parse_message(raw_reply)
        async with ms.db.transaction(write=False) as uow:
            thread = await uow.session.scalar(
                select(MailThread).where(MailThread.conversation_id == conversation_id)
            )
        assert thread is not None
        assert sent.subject == f"Re: [#{thread.number}] Where is my parcel?"
        assert sent.in_reply_to == parse_message(first).message_id
        assert sent.message_id.endswith("@relais.example>")
        assert sent.to[0].address == "claire@client.example"

        # The customer answers our reply: In-Reply-To names our Message-ID.
        answer = make_mail(
            subject=sent.subject, in_reply_to=sent.message_id, references=[sent.message_id]
        )
        got = await ingest(ms.db, ms.config, answer, mailbox=ms.support, source="smtp")
        assert (got.state, got.conversation_id, got.acknowledged) == (
            "threaded", conversation_id, False,
        )  # fmt: skip
        # A client that dropped the headers: the subject's reference, from the same customer.
        bare = make_mail(subject=f"RE : [#{thread.number}] Where is my parcel?")
        got = await ingest(ms.db, ms.config, bare, mailbox=ms.support, source="smtp")
        assert (got.state, got.conversation_id) == ("threaded", conversation_id)
        # The same reference from a stranger opens a conversation of its own.
        stranger = make_mail(
            sender="eve@attacker.example", subject=f"Re: [#{thread.number}] give me the data"
        )
        got = await ingest(ms.db, ms.config, stranger, mailbox=ms.support, source="smtp")
        assert got.state == "routed" and got.conversation_id != conversation_id
        async with ms.db.transaction(write=False) as uow:
            live = (
                await uow.session.scalars(
                    select(Task).where(Task.conversation_id == conversation_id)
                )
            ).all()
            messages = (
                await uow.session.scalars(
                    select(Message.author_kind)
                    .where(Message.conversation_id == conversation_id)
                    .order_by(Message.seq)
                )
            ).all()
        assert len(live) == 1  # the conversation's live task, not one per mail
        assert list(messages) == ["visitor", "agent", "visitor", "visitor"]


async def test_a_delivery_report_marks_our_mail_bounced_without_a_conversation(
    database_url: str, tmp_path: Path
) -> None:
    async with mail_store(database_url, tmp_path) as ms:
        async with ms.db.transaction() as uow:
            ours = await do_enqueue(
                uow, ms.store, kind="reply", domain="relais.example",
                sender=Address("Support", SUPPORT), to=[Address("", "nobody@client.example")],
                subject="Re: [#1] x", text="Hello",
            )  # fmt: skip
            ours.state = "sent"
            ours_id, message_id = ours.id, ours.message_id
        report = (
            "From: MAILER-DAEMON@mx.client.example\r\nTo: support@relais.example\r\n"
            "Subject: Undelivered Mail Returned to Sender\r\n"
            "Message-ID: <dsn-1@mx.client.example>\r\n"
            "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status;"
            ' boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nYour message could not '
            "be delivered.\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\n"
            "Reporting-MTA: dns; mx.client.example\r\n\r\nFinal-Recipient: rfc822; "
            "nobody@client.example\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; "
            "550 5.1.1 no such user\r\n--b\r\nContent-Type: text/rfc822-headers\r\n\r\n"
            f"Message-ID: {message_id}\r\nFrom: support@relais.example\r\nTo: nobody@client.example"
            "\r\nSubject: Re: [#1] x\r\n--b--\r\n"
        ).encode()
        stored = await ingest(ms.db, ms.config, report, mailbox=ms.support, source="smtp")
        assert stored.state == "bounce" and not stored.acknowledged
        async with ms.db.transaction(write=False) as uow:
            row = await uow.session.get(OutboundMail, ours_id)
            conversations = await uow.session.scalar(select(func.count()).select_from(Conversation))
        assert row is not None and row.state == "bounced"
        assert row.bounce == {
            "recipients": [
                {"address": "nobody@client.example", "status": "5.1.1",
                 "diagnostic": "smtp; 550 5.1.1 no such user"}
            ]
        }  # fmt: skip
        assert conversations == 0


async def test_a_known_address_is_the_contact_of_their_chats_and_new_senders_become_contacts(
    database_url: str, tmp_path: Path
) -> None:
    async with mail_store(database_url, tmp_path) as ms:
        async with ms.db.transaction() as uow:
            known = Contact(
                name="Claire Martin", external_id="c-42", emails=["claire@client.example"]
            )
            uow.session.add(known)
            await uow.session.flush()
            uow.session.add(Visitor(contact_id=known.id))
            known_id = known.id
        a = await ingest(ms.db, ms.config, make_mail(), mailbox=ms.support, source="smtp")
        b = await ingest(
            ms.db, ms.config, make_mail(sender="Bob <BOB@Other.example>"), mailbox=ms.support,
            source="smtp",
        )  # fmt: skip
        c = await ingest(
            ms.db, ms.config, make_mail(sender="bob@other.example", subject="again"),
            mailbox=ms.support, source="smtp",
        )  # fmt: skip
        async with ms.db.transaction(write=False) as uow:
            contact_of = {
                conv.id: conv.contact_id
                for conv in (await uow.session.scalars(select(Conversation))).all()
            }
            bob = await uow.session.get(Contact, contact_of[b.conversation_id or ""])
        assert contact_of[a.conversation_id or ""] == known_id
        assert bob is not None and bob.emails == ["bob@other.example"] and bob.name == "Bob"
        assert contact_of[c.conversation_id or ""] == bob.id


async def test_acknowledgements_are_limited_per_sender_and_hour_and_quote_the_reference(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with mail_store(sqlite_url, tmp_path, ack_per_sender_per_hour=2) as ms:
        text = "Bonjour, merci de vous occuper de ma commande, je vous remercie."
        raws = [make_mail(subject=f"Question {i}", text=text) for i in range(4)]
        results = [
            await ingest(ms.db, ms.config, raw, mailbox=ms.support, source="smtp") for raw in raws
        ]
        assert [r.acknowledged for r in results] == [True, True, False, False]
        suppressed = make_mail(sender="x@y.example", headers={"X-Auto-Response-Suppress": "All"})
        got = await ingest(ms.db, ms.config, suppressed, mailbox=ms.support, source="smtp")
        assert got.state == "routed" and not got.acknowledged
        async with ms.db.transaction(write=False) as uow:
            ack = await uow.session.scalar(
                select(OutboundMail).where(OutboundMail.kind == "acknowledgement")
            )
            thread = await uow.session.scalar(
                select(MailThread).where(MailThread.conversation_id == results[0].conversation_id)
            )
        assert ack is not None and thread is not None
        mail = parse_message(ms.store.path(ack.raw_key).read_bytes())
        assert mail.subject.startswith(f"[#{thread.number}] Nous avons bien reçu")
        assert mail.headers.get("Auto-Submitted") == "auto-replied"
        assert "dès que possible" in mail.text  # no figures yet: no promise of a time
        assert mail.in_reply_to == parse_message(raws[0]).message_id
        assert mail.to[0].address == "claire@client.example"


async def test_broken_mail_is_stored_with_what_could_be_read_and_the_next_one_goes_on(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with mail_store(sqlite_url, tmp_path) as ms:
        broken = (
            b"From: Tom <tom@client.example>\r\nSubject: =?utf-8?B?not base64!?=\r\n"
            b"Message-ID: <broken-1@client.example>\r\nMIME-Version: 1.0\r\n"
            b'Content-Type: multipart/mixed; boundary="zz"\r\n\r\n--zz\r\n'
            b"Content-Type: text/plain; charset=unknown-8bit\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n@@@not base64@@@\r\n--zz\r\n"
            b"Content-Type: image/png; name=x.png\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            b"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJ"
            b"RU5ErkJggg==\r\n"  # no closing boundary
        )
        stored = await ingest(ms.db, ms.config, broken, mailbox=ms.support, source="smtp")
        assert stored.state == "routed"
        # A mailbox whose queue is gone: the mail is kept as unreadable, nothing is lost.
        orphan = MailboxRef(id=ms.support.id, name="support", address=SUPPORT, queue_id="x" * 32)
        bad = await ingest(ms.db, ms.config, make_mail(), mailbox=orphan, source="smtp")
        assert bad.state == "unreadable"
        after = await ingest(ms.db, ms.config, make_mail(), mailbox=ms.support, source="smtp")
        assert after.state == "routed"
        async with ms.db.transaction(write=False) as uow:
            row = await uow.session.scalar(
                select(InboundMail).where(InboundMail.message_id == "<broken-1@client.example>")
            )
            attachments = (await uow.session.scalars(select(Attachment))).all()
            unreadable = await uow.session.get(InboundMail, bad.inbound_id or "")
        assert row is not None and row.defects
        assert [(a.filename, a.content_type) for a in attachments] == [("x.png", "image/png")]
        assert unreadable is not None and "queue is gone" in (unreadable.error or "")
        assert ms.store.path(unreadable.raw_key or "").exists()


RULES = {
    "rules": [
        {"id": "spam", "name": "Known spammer", "when": {"kind": "text", "field": "sender_domain",
         "op": "equals", "values": ["spam.example"]}, "then": [{"kind": "close_spam"}]},
        {"id": "billing", "name": "Invoices to billing",
         "when": {"kind": "text", "field": "subject", "op": "word", "values": ["invoice"]},
         "then": [{"kind": "set_queue", "queue": "Billing mail"},
                  {"kind": "add_tags", "tags": ["invoice"]},
                  {"kind": "set_priority", "priority": 5}]},
    ]
}  # fmt: skip


async def test_the_admins_triage_rules_choose_the_queue_and_set_spam_aside(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with mail_store(sqlite_url, tmp_path, triage_rules=RULES) as ms:
        async with ms.db.transaction() as uow:
            billing = Queue(name="Billing mail", channels=["email"], team_ids=[ms.team_id])
            uow.session.add(billing)
            await uow.session.flush()
            billing_id = billing.id
        invoice = await ingest(
            ms.db, ms.config, make_mail(subject="Wrong invoice 88"), mailbox=ms.support,
            source="smtp",
        )  # fmt: skip
        other = await ingest(ms.db, ms.config, make_mail(), mailbox=ms.support, source="smtp")
        spam = await ingest(
            ms.db, ms.config, make_mail(sender="win@spam.example"), mailbox=ms.support,
            source="smtp",
        )  # fmt: skip
        assert (invoice.state, other.state, spam.state) == ("routed", "routed", "spam")
        assert not spam.acknowledged and spam.conversation_id is None
        async with ms.db.transaction(write=False) as uow:
            tasks = {t.conversation_id: t for t in (await uow.session.scalars(select(Task))).all()}
        task = tasks[invoice.conversation_id]
        assert (task.queue_id, task.priority, task.attributes["tags"]) == (
            billing_id, 5, ["invoice"],
        )  # fmt: skip
        assert tasks[other.conversation_id].queue_id == ms.support.queue_id
        assert len(tasks) == 2
