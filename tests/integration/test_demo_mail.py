"""`relais demo`'s e-mail: the packaged .eml files through the real intake, once."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from relais.channels.email.models import InboundMail, MailThread
from relais.channels.email.outbox import do_feed_replies
from relais.channels.email.suggestions import ReplyIndex
from relais.contacts.models import Contact
from relais.conversations.attachments import AttachmentStore
from relais.conversations.models import Attachment, Conversation, Message
from relais.core.bus import MemoryBus
from relais.core.db import Database
from relais.demo import DEMO_MAIL, PAST_MAIL, import_demo_mail, seed
from relais.routing.models import Queue, Task
from tests.conftest import make_settings


async def test_the_demo_seeds_mail_conversations_through_the_intake_and_never_the_auto_reply(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, tmp_path)
    await seed(settings)
    db = Database(settings.database_url, MemoryBus())
    try:
        async with db.transaction(write=False) as uow:
            s = uow.session
            new = Conversation.channel == "email", Conversation.status != "resolved"
            mail = await s.execute(select(Conversation).where(*new))
            conversations = {c.subject: c for c in mail.scalars()}
            assert set(conversations) == {
                "Facture F-2026-118 : montant incorrect",
                "Replacement seal for my espresso machine",
                "Changement d'adresse de livraison, commande 4502",
            }
            rows = await s.execute(select(InboundMail.subject, InboundMail.state))
            states = {subject: state for subject, state in rows}
            auto = "Automatic reply: Your order 4388 has shipped"
            assert states[auto] == "automatic"
            assert await s.scalar(select(InboundMail.conversation_id).where(
                InboundMail.subject == auto)) is None  # fmt: skip

            # The French invoice: the demo's known customer, with her PDF.
            invoice = conversations["Facture F-2026-118 : montant incorrect"]
            contact = await s.get(Contact, invoice.contact_id)
            assert contact is not None and contact.external_id == "shop-claire-martin"
            files = (
                await s.scalars(select(Attachment).where(Attachment.conversation_id == invoice.id))
            ).all()
            assert [(f.filename, f.content_type) for f in files] == [
                ("facture-F-2026-118.pdf", "application/pdf")
            ]
            # The long thread: what is new first, three earlier mails folded.
            seal = conversations["Replacement seal for my espresso machine"]
            html = await s.scalar(select(Message.html).where(Message.conversation_id == seal.id))
            assert html is not None
            new, _, folded = html.partition('<details class="relais-quoted">')
            assert "still doesn" in new and "Barista Pro 2" in new and "wrote:" not in new
            assert folded.count("wrote:") == 4

            # Each waits for an agent in the demo's e-mail queue, handed out without an offer.
            queue = await s.scalar(select(Queue).where(Queue.name == "E-mail"))
            assert queue is not None and queue.rules["auto_accept"] is True
            tasks = (await s.scalars(select(Task).where(Task.channel == "email"))).all()
            assert {t.conversation_id for t in tasks} == {c.id for c in conversations.values()}
            assert {t.queue_id for t in tasks} == {queue.id}
            numbers = await s.scalar(select(func.count()).select_from(MailThread))
            assert numbers == 3 + len(PAST_MAIL)

        # Resolved mail of weeks ago, already answered: the new mail's suggestions start from it,
        # and no sender ever mails those answers again.
        index = ReplyIndex(db)
        await index.build()
        question = "la remise de bienvenue n'a pas été appliquée"
        [first, *_] = index.suggest(invoice.subject or "", question, k=3, language="fr")
        assert first.text.startswith("Bonjour Claire,\n\nVous avez raison")
        store = AttachmentStore(tmp_path / "files", max_bytes=1000, allowed_types=[])
        async with db.transaction() as uow:
            assert await do_feed_replies(uow, store, domain="relais.example") == 0

        # A second demo start imports nothing new.
        assert len(list(DEMO_MAIL.glob("*.eml"))) == 4
        await import_demo_mail(settings)
        await seed(settings)
        async with db.transaction(write=False) as uow:
            count = await uow.session.scalar(
                select(func.count())
                .select_from(Conversation)
                .where(Conversation.channel == "email")
            )
            assert count == 3 + len(PAST_MAIL)
            assert await uow.session.scalar(select(func.count()).select_from(InboundMail)) == 4
    finally:
        await db.dispose()
