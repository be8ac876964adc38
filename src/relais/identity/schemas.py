"""API models of agents and their login."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Presence = Literal["available", "away", "offline"]


class AgentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="forbid")
    id: str
    email: str
    name: str
    role: Literal["agent", "supervisor", "admin"]
    presence: Presence
    presence_reason: str | None = None
    team_ids: list[str]


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=1024)


class LoginOut(BaseModel):
    agent: AgentOut
    csrf_token: str


class PresenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    presence: Literal["available", "away"]
    reason: str | None = Field(default=None, max_length=100)
