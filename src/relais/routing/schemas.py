"""API models of the ACD."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from relais.routing.models import Task


class TaskOut(BaseModel):
    id: str
    channel: str
    queue_id: str
    state: str
    version: int
    priority: int
    requirements: dict[str, int]
    attributes: dict[str, Any]
    conversation_id: str | None
    contact_id: str | None
    visitor_id: str | None
    agent_id: str | None
    attempts: int
    created_at: datetime
    queued_at: datetime | None
    not_before: datetime | None
    deadline: datetime | None
    assigned_at: datetime | None
    wrap_up_until: datetime | None
    ended_at: datetime | None
    end_reason: str | None

    @classmethod
    def of(cls, task: Task) -> TaskOut:
        return cls.model_validate(task, from_attributes=True)
