"""The ACD's tables: queues, tasks, the record of every task transition, and the lease that lets
one process at a time run the engine."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from relais.core.clock import utcnow
from relais.core.db import Base, UTCDateTime
from relais.core.ids import new_id


class Queue(Base):
    __tablename__ = "queues"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Agents of these teams serve the queue; those of the overflow teams once a step allows.
    team_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    overflow_team_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    rules: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # queues.RoutingRules
    hours: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)  # hours.BusinessHours
    sl_target_s: Mapped[int] = mapped_column(Integer, default=20)
    sl_goal: Mapped[float] = mapped_column(default=0.8)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Task(Base):
    """One unit of work to route. ``version`` grows by one per transition: every write is
    conditional on the version it read, so two writers can never both move a task."""

    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_state", "state"),
        Index("ix_tasks_agent_state", "agent_id", "state"),
        Index("ix_tasks_conversation", "conversation_id"),
    )
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    channel: Mapped[str] = mapped_column(String(20))
    queue_id: Mapped[str] = mapped_column(ForeignKey("queues.id"))
    state: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer, default=1)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    requirements: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    conversation_id: Mapped[str | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), default=None
    )
    contact_id: Mapped[str | None] = mapped_column(String(32), default=None)
    visitor_id: Mapped[str | None] = mapped_column(String(32), default=None)
    agent_id: Mapped[str | None] = mapped_column(ForeignKey("agents.id"), default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    reserved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    wrap_up_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    end_reason: Mapped[str | None] = mapped_column(String(40), default=None)


class TaskEvent(Base):
    """One transition of one task, as it happened: the wallboard and reports read these."""

    __tablename__ = "task_events"
    __table_args__ = (Index("ix_task_events_at", "at"), Index("ix_task_events_task", "task_id"))
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    task_id: Mapped[str] = mapped_column(String(32))
    queue_id: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(20))
    agent_id: Mapped[str | None] = mapped_column(String(32), default=None)
    command: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[str | None] = mapped_column(String(20), default=None)
    to_state: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Lease(Base):
    """Work that must run in one process at a time. ``token`` grows with every new holder and
    fences the holder's writes: a process that lost the lease without knowing can't write."""

    __tablename__ = "leases"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    token: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
