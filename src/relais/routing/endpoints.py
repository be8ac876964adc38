"""Presence: an agent who becomes available receives the conversations waiting for its teams."""

from __future__ import annotations

from fastapi import APIRouter

from relais.core.errors import NotFound
from relais.deps import CurrentAgent, RuntimeDep
from relais.identity.models import Agent
from relais.identity.schemas import AgentOut, PresenceIn
from relais.identity.service import agent_out
from relais.routing.presence import do_set_presence

router = APIRouter(tags=["agents"])


@router.put("/agents/me/presence")
async def set_presence(body: PresenceIn, agent: CurrentAgent, runtime: RuntimeDep) -> AgentOut:
    async with runtime.db.transaction() as uow:
        row = await uow.session.get(Agent, agent.agent_id)
        if row is None:
            raise NotFound("No such agent.")
        await do_set_presence(uow, row, body.presence, body.reason, assigner=runtime.assigner)
        return agent_out(row)
