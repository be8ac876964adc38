"""A queue's routing rules, as the engine reads them: pure values, validated where admins edit them.

A queue is reached through a pseudo-skill ``queue:<id>``: agents of the queue's own teams hold it
at level 2, agents of its overflow teams at level 1. A task asks for level 2; an overflow step
that "adds the overflow teams" lowers the ask to 1. Every rule of eligibility is thus a minimum
skill level, which is what the matcher indexes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

PRIMARY_TIER, OVERFLOW_TIER = 2, 1


def queue_skill(queue_id: str) -> str:
    return f"queue:{queue_id}"


class OverflowStep(BaseModel):
    """What changes for a task that has waited ``after_s`` seconds in its queue."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    after_s: float = Field(ge=0)
    max_level: int | None = Field(default=None, ge=1, le=10, description="cap every skill ask")
    drop_skills: tuple[str, ...] = ()
    add_overflow_teams: bool = False
    priority_boost: int = 0
    offer_callback: bool = False
    time_out: bool = False


class RoutingRules(BaseModel):
    """The part of a queue the engine needs; stored as JSON on the queue row."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    strategy: str = "longest_idle"
    priority: int = 0
    skills: dict[str, int] = Field(default_factory=dict)
    overflow: tuple[OverflowStep, ...] = ()
    reservation_timeout_s: float = Field(default=30.0, gt=0)
    auto_accept: bool = False
    wrap_up_s: float = Field(default=0.0, ge=0)
    max_misses: int = Field(default=3, ge=1)
    # A visitor's language becomes a required skill ``lang:<code>`` (level 1).
    route_by_language: bool = False


@dataclass(frozen=True, slots=True)
class QueueConfig:
    id: str
    rules: RoutingRules = field(default_factory=RoutingRules)

    def steps_due(self, waited_s: float) -> int:
        """How many overflow steps apply after waiting ``waited_s``."""
        return sum(1 for step in self.rules.overflow if step.after_s <= waited_s)

    def next_step_after(self, waited_s: float) -> float | None:
        later = [s.after_s for s in self.rules.overflow if s.after_s > waited_s]
        return min(later) if later else None

    def effective(
        self, base: Mapping[str, int], priority: int, steps: int
    ) -> tuple[dict[str, int], int]:
        """The requirements and priority of a task once ``steps`` overflow steps applied."""
        asks = {queue_skill(self.id): PRIMARY_TIER, **self.rules.skills, **base}
        priority += self.rules.priority
        for step in self.rules.overflow[:steps]:
            for skill in step.drop_skills:
                if skill.endswith("*"):  # a family: "lang:*"
                    asks = {k: v for k, v in asks.items() if not k.startswith(skill[:-1])}
                else:
                    asks.pop(skill, None)
            if step.max_level is not None:
                asks = {
                    k: v if k.startswith("queue:") else min(v, step.max_level)
                    for k, v in asks.items()
                }
            if step.add_overflow_teams:
                asks[queue_skill(self.id)] = OVERFLOW_TIER
            priority += step.priority_boost
        return asks, priority
