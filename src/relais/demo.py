"""Demo data: a team, agents, and a known customer with history (for the screen pop)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from relais.config import Settings
from relais.contacts.models import Contact, Visitor
from relais.conversations import markup
from relais.conversations.models import Conversation, Message
from relais.core.bus import MemoryBus
from relais.core.clock import utcnow
from relais.core.db import Database
from relais.identity.models import Agent
from relais.identity.service import do_create_agent, do_set_skills, get_or_create_team
from relais.routing.queues import OverflowStep, RoutingRules
from relais.routing.service import get_or_create_queue

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


async def seed(settings: Settings) -> list[tuple[str, str]]:
    """Create the demo data once; running it again changes nothing."""
    db = Database(settings.database_url, MemoryBus())
    try:
        async with db.transaction() as uow:
            session = uow.session
            team = await get_or_create_team(session, settings.default_team)
            await get_or_create_queue(
                session, settings.routing.default_queue, team_id=team.id, rules=DEMO_RULES
            )
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
    return [(email, role) for email, _, role, _, _ in AGENTS]
