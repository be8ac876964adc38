"""Who is calling: a visitor (signed token) or an agent (session cookie)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Role = Literal["agent", "supervisor", "admin"]


@dataclass(frozen=True, slots=True)
class VisitorPrincipal:
    visitor_id: str
    kind: Literal["visitor"] = "visitor"

    @property
    def id(self) -> str:
        return self.visitor_id


@dataclass(frozen=True, slots=True)
class AgentPrincipal:
    agent_id: str
    name: str
    role: Role
    team_ids: frozenset[str] = field(default_factory=frozenset)
    kind: Literal["agent"] = "agent"

    @property
    def id(self) -> str:
        return self.agent_id

    @property
    def sees_everything(self) -> bool:
        return self.role in ("supervisor", "admin")


Principal = VisitorPrincipal | AgentPrincipal
