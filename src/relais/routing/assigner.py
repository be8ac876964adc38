"""Interim assignment: a new conversation goes to the available agent of its team with the
fewest open conversations, under that agent's capacity. The ACD replaces this behind the same
``Assigner`` interface (relais.conversations.service.Assigner)."""

from __future__ import annotations

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from relais.conversations.models import Conversation
from relais.core.db import UnitOfWork
from relais.identity.models import Agent, AgentTeam
from relais.routing.presence import do_assign_waiting


class LeastBusyAssigner:
    async def offer_waiting(self, uow: UnitOfWork, agent_id: str) -> int:
        agent = await uow.session.get(Agent, agent_id)
        if agent is None or agent.presence != "available":
            return 0
        return await do_assign_waiting(uow, agent, assigner=self)

    async def pick_agent(self, session: AsyncSession, *, team_id: str) -> Agent | None:
        load = func.count(Conversation.id)
        query = (
            select(Agent, load)
            .join(AgentTeam, and_(AgentTeam.agent_id == Agent.id, AgentTeam.team_id == team_id))
            .outerjoin(
                Conversation,
                and_(Conversation.assignee_id == Agent.id, Conversation.status != "resolved"),
            )
            .where(Agent.presence == "available", Agent.active.is_(True))
            .group_by(Agent.id)
            .having(load < Agent.max_chats)
            .order_by(load, Agent.id)
            .limit(1)
        )
        row = (await session.execute(query)).first()
        return row[0] if row else None
