"""Events of agents."""

from __future__ import annotations

from typing import Literal

from relais.core.bus import Event


class AgentPresenceChanged(Event):
    type: Literal["agent.presence_changed"] = "agent.presence_changed"
    agent_id: str
    presence: Literal["available", "away", "offline"]
    team_ids: list[str]
    # Whether any agent is available now: visitors' widgets switch to the offline form on False.
    agents_online: bool
