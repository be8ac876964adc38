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


async def import_demo_mail(settings: Settings) -> None:
    """The demo's mail through ``relais mail import``: stored once (Message-IDs are unique),
    so a second demo start imports nothing new."""
    files = [str(p) for p in sorted(DEMO_MAIL.glob("*.eml"))]
    if await run_import(settings, argparse.Namespace(files=files, mailbox=None)) != 0:
        raise RuntimeError("the demo's mail could not be imported")
