"""API models of visitors and contacts."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class VisitorSessionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str | None = Field(default=None, max_length=2000)
    identity: str | None = Field(default=None, max_length=4000)
    lang: Literal["en", "fr"] = "en"


class VisitorSessionOut(BaseModel):
    token: str
    visitor_id: str
    identified: bool
    contact_name: str | None
    agents_online: bool


class PageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(min_length=1, max_length=2000)
    title: str = Field(default="", max_length=300)


class PageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    url: str
    title: str
    started_at: datetime
    seconds: float | None


class ContactOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    external_id: str | None
    name: str | None
    emails: list[str]
    phones: list[str]
    attributes: dict[str, Any]
    created_at: datetime
