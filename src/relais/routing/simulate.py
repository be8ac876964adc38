"""The real engine in virtual time: Poisson arrivals, handling and patience times, agents with
skills. ``relais simulate`` prints service level, ASA, abandonment and occupancy; the tests hold
them against Erlang C and Erlang A (tests/unit/test_simulate.py).

The simulation plays the part of the store and of the people: it applies the engine's effects to
its own copy of the tasks, accepts every offer at once (auto-accept), ends each task after its
handling time, and makes a waiting customer hang up after their patience.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from relais.routing.engine import (
    AgentSnapshot,
    EndWrapUp,
    Engine,
    Expire,
    Reserve,
    TaskSnapshot,
    TimeOut,
)
from relais.routing.queues import QueueConfig, RoutingRules, queue_skill


@dataclass(frozen=True)
class AgentGroup:
    count: int
    skills: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario:
    arrivals_per_hour: float
    aht_s: float
    agents: tuple[AgentGroup, ...]
    target_s: float = 20.0
    patience_s: float | None = None  # mean of an exponential patience; None: nobody hangs up
    requirements: dict[str, int] = field(default_factory=dict)
    handling: str = "exponential"  # or "constant"
    arrivals: int = 100_000
    warm_up: int = 1_000  # arrivals left out of the figures while the queue fills
    seed: int = 1


@dataclass(frozen=True)
class Result:
    arrivals: int
    answered: int
    abandoned: int
    service_level: float  # answered within target ÷ (answered + abandoned)
    answered_within_target: float  # ÷ answered only (Erlang C's P(wait ≤ t))
    asa_s: float
    abandonment: float
    occupancy: float
    p_wait: float  # share of answered customers that waited at all


def simulate(scenario: Scenario) -> Result:
    rng = random.Random(scenario.seed)  # noqa: S311  # a simulation, not secrets
    engine = Engine()
    engine.set_queue(QueueConfig("q", RoutingRules(auto_accept=True)))
    n_agents = 0
    for group in scenario.agents:
        for _ in range(group.count):
            n_agents += 1
            skills = {queue_skill("q"): 2, **group.skills}
            engine.set_agent(AgentSnapshot(f"a{n_agents}", 1, True, skills, {"voice": 1}), 0.0)

    rate = scenario.arrivals_per_hour / 3600.0
    handle: Callable[[], float] = (
        (lambda: rng.expovariate(1.0 / scenario.aht_s))
        if scenario.handling == "exponential"
        else (lambda: scenario.aht_s)
    )
    events: list[tuple[float, int, str, str]] = []
    order = itertools.count()
    tasks: dict[str, TaskSnapshot] = {}
    arrived_at: dict[str, float] = {}
    counted: set[str] = set()

    answered = abandoned = within = waited_any = 0
    wait_sum = busy_time = 0.0
    start_time: float | None = None
    now = last_arrival = 0.0

    def push(at: float, kind: str, task_id: str) -> None:
        heapq.heappush(events, (at, next(order), kind, task_id))

    def apply(effects: list[object]) -> None:
        nonlocal answered, within, wait_sum, waited_any, busy_time
        for effect in effects:
            if isinstance(effect, Reserve):
                task = tasks[effect.task_id]
                tasks[task.id] = replace(
                    task, state="assigned", agent_id=effect.agent_id, version=task.version + 2
                )
                wait = now - arrived_at[task.id]
                duration = handle()
                push(now + duration, "done", task.id)
                if task.id in counted:
                    answered += 1
                    wait_sum += wait
                    within += wait <= scenario.target_s
                    waited_any += wait > 1e-9
                    busy_time += duration
            elif isinstance(effect, EndWrapUp | Expire | TimeOut):
                raise AssertionError(f"unexpected {effect} in an auto-accept simulation")

    next_arrival = rng.expovariate(rate)
    created = 0
    while created < scenario.arrivals or events:
        due = engine.next_due()
        candidates = [next_arrival] if created < scenario.arrivals else []
        if events:
            candidates.append(events[0][0])
        if due is not None:
            candidates.append(due)
        if not candidates:
            break
        now = min(candidates)
        if created < scenario.arrivals and now == next_arrival:
            created += 1
            task_id = f"t{created}"
            if created > scenario.warm_up:
                counted.add(task_id)
                if start_time is None:
                    start_time = now
            task = TaskSnapshot(
                task_id, "q", "voice", "queued", 1, now, requirements=scenario.requirements
            )
            tasks[task_id] = task
            arrived_at[task_id] = now
            engine.set_task(task, now)
            if scenario.patience_s is not None:
                push(now + rng.expovariate(1.0 / scenario.patience_s), "hang_up", task_id)
            next_arrival = now + rng.expovariate(rate)
            last_arrival = now
        elif events and events[0][0] == now:
            _, _, kind, task_id = heapq.heappop(events)
            current = tasks.get(task_id)  # None once it ended
            if current is None:
                pass
            elif kind == "done" and current.state == "assigned":
                # Handling ends; no wrap-up: completed at once.
                done = replace(current, state="completed", version=current.version + 1)
                engine.set_task(done, now)
                del tasks[task_id]
            elif kind == "hang_up" and current.state == "queued":
                gone = replace(current, state="abandoned", version=current.version + 1)
                engine.set_task(gone, now)
                del tasks[task_id]
                if task_id in counted:
                    abandoned += 1
        apply(engine.step(now))  # type: ignore[arg-type]  # effects are a closed union

    # Occupancy over the time arrivals were being counted (not the drain at the end).
    duration = max(1e-9, last_arrival - (start_time or 0.0))
    total = answered + abandoned
    return Result(
        arrivals=len(counted),
        answered=answered,
        abandoned=abandoned,
        service_level=within / total if total else math.nan,
        answered_within_target=within / answered if answered else math.nan,
        asa_s=wait_sum / answered if answered else math.nan,
        abandonment=abandoned / total if total else math.nan,
        occupancy=min(1.0, busy_time / (n_agents * duration)),
        p_wait=waited_any / answered if answered else math.nan,
    )
