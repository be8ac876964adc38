"""Agents: creating them, logging in and out, resolving a session cookie to a principal."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Collection
from datetime import timedelta
from typing import cast

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from relais.core.clock import utcnow
from relais.core.db import UnitOfWork
from relais.core.errors import Conflict, Invalid, NotAuthenticated
from relais.identity.events import AgentPresenceChanged
from relais.identity.models import (
    Agent,
    AgentSession,
    AgentSkill,
    AgentStatusEvent,
    AgentTeam,
    Skill,
    Team,
)
from relais.identity.passwords import hash_password, verify_password
from relais.identity.principals import AgentPrincipal, Role
from relais.identity.schemas import AgentOut, Presence

ROLES: tuple[Role, ...] = ("agent", "supervisor", "admin")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def agent_out(agent: Agent) -> AgentOut:
    return AgentOut(
        id=agent.id,
        email=agent.email,
        name=agent.name,
        role=agent.role,
        presence=agent.presence,
        presence_reason=agent.presence_reason,
        team_ids=[t.id for t in agent.teams],
    )


def principal_of(agent: Agent) -> AgentPrincipal:
    role = cast(Role, agent.role)  # do_create_agent admits only ROLES
    return AgentPrincipal(
        agent_id=agent.id,
        name=agent.name,
        role=role,
        team_ids=frozenset(t.id for t in agent.teams),
    )


async def get_or_create_team(session: AsyncSession, name: str) -> Team:
    team = await session.scalar(select(Team).where(Team.name == name))
    if team is None:
        team = Team(name=name)
        session.add(team)
        await session.flush()
    return team


async def do_set_skills(session: AsyncSession, agent: Agent, skills: dict[str, int]) -> None:
    """Replace the agent's skills by ``skills`` (name -> level 1..10), creating unknown names."""
    await session.execute(delete(AgentSkill).where(AgentSkill.agent_id == agent.id))
    for name, level in skills.items():
        skill = await session.scalar(select(Skill).where(Skill.name == name))
        if skill is None:
            skill = Skill(name=name)
            session.add(skill)
            await session.flush()
        session.add(AgentSkill(agent_id=agent.id, skill_id=skill.id, level=level))
    await session.flush()


async def do_create_agent(
    session: AsyncSession,
    *,
    email: str,
    name: str,
    password: str,
    role: str = "agent",
    teams: list[str] | None = None,
    max_chats: int = 3,
) -> Agent:
    email = email.strip().lower()
    if role not in ROLES:
        raise Invalid(f"Role must be one of {', '.join(ROLES)}.")
    if len(password) < 8:
        raise Invalid("A password needs at least 8 characters.")
    if await session.scalar(select(Agent.id).where(Agent.email == email)):
        raise Conflict(f"An agent with e-mail {email} exists already.")
    agent = Agent(
        email=email,
        name=name,
        password_hash=hash_password(password),
        role=role,
        max_chats=max_chats,
    )
    session.add(agent)
    await session.flush()
    for team_name in teams or []:
        team = await get_or_create_team(session, team_name)
        session.add(AgentTeam(agent_id=agent.id, team_id=team.id))
    await session.flush()
    await session.refresh(agent, ["teams"])
    return agent


async def check_login(session: AsyncSession, email: str, password: str) -> Agent:
    agent = await session.scalar(select(Agent).where(Agent.email == email.strip().lower()))
    # argon2 takes ~0.1 s of CPU by design: in a thread, so the event loop keeps serving.
    ok = await asyncio.to_thread(verify_password, agent.password_hash if agent else None, password)
    if agent is None or not ok or not agent.active:
        raise NotAuthenticated("Wrong e-mail or password.", code="bad_credentials")
    return agent


async def do_open_session(session: AsyncSession, agent: Agent, *, hours: int) -> tuple[str, str]:
    """A new login session: returns (cookie token, CSRF token)."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = utcnow()
    # Expired sessions of this agent go when a new one opens; nothing else needs a sweeper.
    await session.execute(
        delete(AgentSession).where(AgentSession.agent_id == agent.id, AgentSession.expires_at < now)
    )
    session.add(
        AgentSession(
            token_hash=_digest(token),
            agent_id=agent.id,
            csrf_token=csrf,
            expires_at=now + timedelta(hours=hours),
        )
    )
    return token, csrf


async def do_close_session(session: AsyncSession, token: str) -> None:
    await session.execute(delete(AgentSession).where(AgentSession.token_hash == _digest(token)))


async def agent_for_session(session: AsyncSession, token: str) -> tuple[Agent, str]:
    """The agent of a session cookie and the session's CSRF token, or NotAuthenticated."""
    # One query for the session and its agent (every agent request comes through here).
    found = (
        await session.execute(
            select(Agent, AgentSession.csrf_token)
            .join(AgentSession, AgentSession.agent_id == Agent.id)
            .where(
                AgentSession.token_hash == _digest(token),
                AgentSession.expires_at > utcnow(),
                Agent.active.is_(True),
            )
        )
    ).first()
    if found is None:
        raise NotAuthenticated("Your session has ended; log in again.")
    return found[0], found[1]


def session_digest(token: str) -> str:
    """What the store keeps of a session token, and what a socket remembers of its login."""
    return _digest(token)


async def live_sessions(session: AsyncSession, digests: Collection[str]) -> set[str]:
    """Which of these sessions (by ``session_digest``) still stand: not logged out, not
    expired, their agent active. The gateway asks at each heartbeat, in chunks of 500."""
    wanted, live = list(digests), set[str]()
    for i in range(0, len(wanted), 500):
        rows = await session.scalars(
            select(AgentSession.token_hash)
            .join(Agent, Agent.id == AgentSession.agent_id)
            .where(
                AgentSession.token_hash.in_(wanted[i : i + 500]),
                AgentSession.expires_at > utcnow(),
                Agent.active.is_(True),
            )
        )
        live.update(rows)
    return live


# Built once: every visitor's hello asks, thousands at once after a restart.
_ANY_AVAILABLE = (
    select(Agent.id).where(Agent.presence == "available", Agent.active.is_(True)).limit(1)
)


async def any_agent_available(session: AsyncSession) -> bool:
    return await session.scalar(_ANY_AVAILABLE) is not None


async def do_change_presence(
    uow: UnitOfWork, agent: Agent, presence: str, reason: str | None = None
) -> None:
    """Change presence and tell everyone concerned; what follows from it is the ACD's concern."""
    agent.presence = presence
    agent.presence_reason = reason if presence == "away" else None
    uow.session.add(AgentStatusEvent(agent_id=agent.id, status=presence, reason=reason))
    await uow.session.flush()
    uow.emit(
        AgentPresenceChanged(
            agent_id=agent.id,
            presence=cast(Presence, presence),
            team_ids=[t.id for t in agent.teams],
            agents_online=await any_agent_available(uow.session),
        )
    )
