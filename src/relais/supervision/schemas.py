"""API models of the wallboard (GET /api/v1/wallboard). Definitions: docs/metrics.md."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class Interval(BaseModel):
    start: datetime
    offered: int
    answered: int
    abandoned: int
    service_level: float | None
    asa_s: float | None


class Staffing(BaseModel):
    calls_per_hour: float
    aht_s: float | None
    agents_needed: int | None
    agents_available: int


class AgentCounts(BaseModel):
    available: int
    busy: int
    away: int
    offline: int


class QueueBoard(BaseModel):
    """One queue, or all queues together (``id`` None). Counts and rates are today's (from
    midnight in the queue's time zone); ``service_level_15m`` is the rolling 15 minutes."""

    id: str | None
    name: str
    channels: list[str]
    waiting: int
    longest_wait_s: float | None
    offered: int
    answered: int
    abandoned: int
    short_abandoned: int
    timed_out: int
    transferred_out: int
    abandonment_rate: float | None
    service_level_15m: float | None
    service_level_today: float | None
    # All queues: the target and goal shared by every queue, or None when they differ.
    sl_target_s: int | None
    sl_goal: float | None
    asa_s: float | None
    aht_s: float | None
    agents: AgentCounts
    occupancy: float | None
    intervals: list[Interval]
    staffing: Staffing | None  # per queue only
    # E-mail tasks of the queue whose SLA clock is at risk or breached, as of the last check
    # (channels/email/sla_watch.py, every RELAIS_MAIL__SLA_CHECK_S).
    sla_at_risk: int = 0
    sla_breached: int = 0


class AgentBoard(BaseModel):
    id: str
    name: str
    presence: str
    reason: str | None
    tasks: int
    occupancy: float | None


class Wallboard(BaseModel):
    generated_at: datetime
    # The day of the all-queues board (the earliest midnight of the queues' time zones).
    day_start: datetime
    queues: list[QueueBoard]
    all_queues: QueueBoard
    agents: list[AgentBoard]
