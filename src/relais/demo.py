"""Demo data: a team, agents, a known customer with history (for the screen pop), and a few
e-mails received through the real intake (``relais mail import``'s code path on the ``.eml``
files of ``demo_mail/``): French and English, one with an attachment, one with a long quoted
history, and an auto-reply that is stored but never becomes a conversation."""

from __future__ import annotations

import argparse
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from relais.channels.email.import_cli import run_import
from relais.channels.email.models import MailThread
from relais.channels.email.repository import contact_with_email
from relais.channels.email.setup import mailboxes_of
from relais.config import Settings
from relais.contacts.models import Contact, Visitor
from relais.conversations import markup
from relais.conversations.models import Conversation, Message
from relais.core.bus import MemoryBus
from relais.core.clock import utcnow
from relais.core.db import Database
from relais.identity.models import Agent
from relais.identity.service import do_create_agent, do_set_skills, get_or_create_team
from relais.routing.models import Queue
from relais.routing.queues import OverflowStep, RoutingRules
from relais.routing.service import get_or_create_queue

DEMO_MAIL = Path(__file__).parent / "demo_mail"
DEMO_MAIL_DOMAIN = "relais.example"

DEMO_PASSWORD = "relais-demo"  # noqa: S105  # the demo's published password
DEMO_IDENTITY_SECRET = "demo-shop-identity-secret-not-for-production"  # noqa: S105  # the demo shop's key

AGENTS = [
    ("alice@relais.example", "Alice Durand", "agent", ["Support"], {"lang:fr": 3, "lang:en": 2}),
    ("bruno@relais.example", "Bruno Leroy", "agent", ["Support"], {"lang:en": 3}),
    ("sam@relais.example", "Sam Supervisor", "supervisor", ["Support"], {"lang:en": 1}),
    ("admin@relais.example", "Admin", "admin", ["Support"], {}),
]

# Chats are offered by language; after a minute anyone of the team may take them, after two
# the visitor is offered a callback instead of waiting on.
DEMO_RULES = RoutingRules(
    route_by_language=True,
    reservation_timeout_s=30,
    overflow=(
        OverflowStep(after_s=60, drop_skills=("lang:*",)),
        OverflowStep(after_s=120, offer_callback=True),
    ),
)
# Resolved e-mails of weeks ago, answered: the suggested answers of the new mail start from them.
# (address, name, language, subject, days ago, the customer's question, the agent's answer)
PAST_MAIL = [
    (
        "claire-martin@example.com", "Claire Martin", "fr", "Remise non appliquée", 40,
        "Bonjour, la remise de bienvenue n'apparaît pas sur ma facture F-2026-087, le montant "
        "est donc incorrect. Pouvez-vous me renvoyer une facture corrigée ?",
        "Bonjour Claire,\n\nVous avez raison : la remise de bienvenue n'avait pas été appliquée. "
        "Vous trouverez ci-joint la facture corrigée, et la différence vous sera remboursée sous "
        "5 jours ouvrés.\n\nBien cordialement,\nAlice, Maison Relais",
    ),
    (
        "nina.patel@example.com", "Nina Patel", "en", "Wrong spare part", 25,
        "Hello, the burr you sent for my coffee grinder doesn't fit: it is too wide. Could you "
        "send the right part?",
        "Hello Nina,\n\nSorry for the wrong part. We are sending the right one today, with a "
        "prepaid label to send the other back: you have nothing to pay.\n\nKind regards,\n"
        "Bruno, Maison Relais",
    ),
    (
        "marc.petit@example.net", "Marc Petit", "fr", "Changer l'adresse de livraison", 18,
        "Bonjour, je voudrais changer l'adresse de livraison de ma commande, elle n'est pas "
        "encore partie.",
        "Bonjour,\n\nC'est fait : votre commande sera livrée à la nouvelle adresse. Vous "
        "recevrez le numéro de suivi dès son départ.\n\nBonne journée,\nAlice, Maison Relais",
    ),
]  # fmt: skip

# E-mails go to whoever is free without an offer to answer: a newcomer who logs in finds mail
# in the desk at once (up to the e-mail capacity; the rest wait in the list).
DEMO_MAIL_RULES = RoutingRules(auto_accept=True)


async def seed(settings: Settings) -> list[tuple[str, str]]:
    """Create the demo data once; running it again changes nothing."""
    if not settings.mail.domain and not settings.mail.mailboxes:
        # Replies come from support@relais.example rather than from the demo's host name.
        settings.mail.domain = DEMO_MAIL_DOMAIN
    db = Database(settings.database_url, MemoryBus())
    try:
        async with db.transaction() as uow:
            session = uow.session
            team = await get_or_create_team(session, settings.default_team)
            await get_or_create_queue(
                session, settings.routing.default_queue, team_id=team.id, rules=DEMO_RULES
            )
            await _mail_queue(session, settings, team.id)
            for email, name, role, teams, skills in AGENTS:
                if await session.scalar(select(Agent.id).where(Agent.email == email)) is None:
                    agent = await do_create_agent(
                        session,
                        email=email,
                        name=name,
                        password=DEMO_PASSWORD,
                        role=role,
                        teams=teams,
                    )
                    await do_set_skills(session, agent, skills)
            if (
                await session.scalar(
                    select(Contact.id).where(Contact.external_id == "shop-claire-martin")
                )
                is None
            ):
                contact = Contact(
                    external_id="shop-claire-martin",
                    name="Claire Martin",
                    emails=["claire-martin@example.com"],
                    phones=["+33612345678"],
                    attributes={"tier": "gold", "orders": 7},
                )
                session.add(contact)
                await session.flush()
                visitor = Visitor(contact_id=contact.id, lang="fr")
                session.add(visitor)
                await session.flush()
                then = utcnow() - timedelta(days=12)
                past = Conversation(
                    visitor_id=visitor.id,
                    contact_id=contact.id,
                    team_id=team.id,
                    status="resolved",
                    last_seq=2,
                    created_at=then,
                    updated_at=then,
                    resolved_at=then,
                    rating=5,
                    subject="Delivery date",
                )
                session.add(past)
                await session.flush()
                for seq, kind, name, body in [
                    (1, "visitor", "Claire Martin", "Bonjour, quand arrive ma commande ?"),
                    (
                        2,
                        "agent",
                        "Alice Durand",
                        "Bonjour Claire, elle part demain, livraison jeudi.",
                    ),
                ]:
                    session.add(
                        Message(
                            conversation_id=past.id,
                            seq=seq,
                            author_kind=kind,
                            author_name=name,
                            body=body,
                            html=markup.render(body),
                            created_at=then,
                        )
                    )
            await _past_mail(session, team.id)
    finally:
        await db.dispose()
    await import_demo_mail(settings)
    return [(email, role) for email, _, role, _, _ in AGENTS]


async def _mail_queue(session: AsyncSession, settings: Settings, team_id: str) -> None:
    """The queue of the demo's mailbox, made before the intake would make it with the default
    offer rules (docs/configuration.md, RELAIS_MAIL__MAILBOXES)."""
    name = mailboxes_of(settings)[0].queue
    if await session.scalar(select(Queue.id).where(Queue.name == name)) is None:
        session.add(
            Queue(
                name=name,
                channels=["email"],
                team_ids=[team_id],
                rules=DEMO_MAIL_RULES.model_dump(mode="json"),
            )
        )


async def _past_mail(session: AsyncSession, team_id: str) -> None:
    """PAST_MAIL as resolved e-mail conversations, once. Their answers count as mailed
    (``sent_seq``), so that a sender started later on this database never mails them."""
    if await session.scalar(select(MailThread.number).limit(1)) is not None:
        return
    for address, name, language, subject, days, question, answer in PAST_MAIL:
        contact = await contact_with_email(session, address)
        if contact is None:
            contact = Contact(name=name, emails=[address])
            session.add(contact)
            await session.flush()
        then = utcnow() - timedelta(days=days)
        past = Conversation(
            channel="email",
            contact_id=contact.id,
            team_id=team_id,
            status="resolved",
            last_seq=2,
            agent_read_seq=2,
            created_at=then,
            updated_at=then + timedelta(hours=2),
            resolved_at=then + timedelta(hours=2),
            subject=subject,
        )
        session.add(past)
        await session.flush()
        agent = "Bruno Leroy" if language == "en" else "Alice Durand"
        exchange = [(1, "visitor", name, question), (2, "agent", agent, answer)]
        for seq, kind, author, body in exchange:
            at = then + timedelta(hours=seq - 1)
            session.add(
                Message(
                    conversation_id=past.id, seq=seq, author_kind=kind, author_name=author,
                    body=body, html=markup.render(body), created_at=at,
                )
            )  # fmt: skip
        session.add(
            MailThread(
                conversation_id=past.id, subject=subject, customer_address=address,
                customer_name=name, language=language, sent_seq=2, created_at=then,
            )
        )  # fmt: skip


async def import_demo_mail(settings: Settings) -> None:
    """The demo's mail through ``relais mail import``: stored once (Message-IDs are unique),
    so a second demo start imports nothing new."""
    files = [str(p) for p in sorted(DEMO_MAIL.glob("*.eml"))]
    if await run_import(settings, argparse.Namespace(files=files, mailbox=None)) != 0:
        raise RuntimeError("the demo's mail could not be imported")
