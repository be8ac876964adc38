"""Agent presence, and what it changes: an agent who becomes available gets waiting work."""

from __future__ import annotations

from sqlalchemy import select

from relais.conversations.models import Conversation
from relais.conversations.service import Assigner, do_assign
from relais.core.db import UnitOfWork
from relais.identity.models import Agent
from relais.identity.service import do_change_presence


async def do_set_presence(
    uow: UnitOfWork, agent: Agent, presence: str, reason: str | None, *, assigner: Assigner
) -> None:
    await do_change_presence(uow, agent, presence, reason)
    if presence == "available":
        await do_assign_waiting(uow, agent, assigner=assigner)


async def do_assign_waiting(uow: UnitOfWork, agent: Agent, *, assigner: Assigner) -> int:
    """Give waiting conversations of the agent's teams, oldest first, while it has capacity."""
    team_ids = [t.id for t in agent.teams]
    if not team_ids:
        return 0
    waiting = await uow.session.scalars(
        select(Conversation)
        .where(
            Conversation.assignee_id.is_(None),
            Conversation.status != "resolved",
            Conversation.team_id.in_(team_ids),
        )
        .order_by(Conversation.created_at)
        .limit(50)
    )
    assigned = 0
    for conversation in waiting.all():
        chosen = await assigner.pick_agent(uow.session, team_id=conversation.team_id)
        if chosen is None:
            break
        await do_assign(uow, conversation, chosen)
        assigned += 1
    return assigned
