"""The ACD engine: given what the store says of tasks and agents, what to do next. Pure: no I/O.

The engine keeps the live tasks and the agents in memory, indexed by the matcher, and a heap of
timers (reservation deadlines, overflow steps, slots that open, wrap-ups that end). Time is an
argument (seconds on any clock), so the same engine runs live (routing.service) and in virtual
time (routing.simulate).

It speaks in snapshots and effects. ``set_task`` / ``set_agent`` tell it the truth as stored,
identified by a version that only grows, so applying one twice or late changes nothing. ``step``
returns the effects to write (reserve this task for that agent, expire that offer …) and assumes
they succeed: the writer checks each against the task's version and, when the store disagrees,
feeds the stored truth back with ``set_task``. The store thus stays the authority and the engine
a cache that can be rebuilt from it at any time (routing.service does so on taking the lease).
"""

from __future__ import annotations

import heapq
import itertools
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from relais.routing.domain import HOLDING_STATES, TaskState
from relais.routing.matcher import Matcher, Strategy
from relais.routing.queues import QueueConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TaskSnapshot:
    id: str
    queue_id: str
    channel: str
    state: TaskState
    version: int
    queued_at: float  # first time it entered the queue: overflow and FIFO count from here
    priority: int = 0
    requirements: Mapping[str, int] = field(default_factory=dict)
    agent_id: str | None = None
    not_before: float | None = None  # scheduled: when it enters the queue
    deadline: float | None = None  # reserved: when the offer lapses
    wrap_up_until: float | None = None


@dataclass(frozen=True, slots=True)
class AgentSnapshot:
    id: str
    version: int
    available: bool
    skills: Mapping[str, int]
    capacity: Mapping[str, int]


# -- effects: what the caller writes --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reserve:
    task_id: str
    agent_id: str
    version: int  # the task's version the decision was made on
    deadline: float | None
    auto_accept: bool


@dataclass(frozen=True, slots=True)
class Expire:
    task_id: str
    agent_id: str
    version: int


@dataclass(frozen=True, slots=True)
class Enqueue:
    task_id: str
    version: int


@dataclass(frozen=True, slots=True)
class EndWrapUp:
    task_id: str
    version: int


@dataclass(frozen=True, slots=True)
class TimeOut:
    task_id: str
    version: int


@dataclass(frozen=True, slots=True)
class OfferCallback:
    task_id: str


@dataclass(frozen=True, slots=True)
class AgentAway:
    agent_id: str
    reason: str


Effect = Reserve | Expire | Enqueue | EndWrapUp | TimeOut | OfferCallback | AgentAway
TimerKind = Literal["deadline", "overflow", "slot", "wrap_up"]


class Engine:
    def __init__(self) -> None:
        self.matcher = Matcher()
        self.queues: dict[str, QueueConfig] = {}
        self.tasks: dict[str, TaskSnapshot] = {}
        self.agents: dict[str, AgentSnapshot] = {}
        self._steps: dict[str, int] = {}  # overflow steps applied, per queued task
        self._misses: dict[str, int] = {}
        self._timers: list[tuple[float, int, TimerKind, str, int]] = []
        self._seq = itertools.count()
        self._new_tasks: set[str] = set()
        self._freed_agents: set[str] = set()
        self._effects: list[Effect] = []
        self._aht: dict[str, float] = {}

    # -- the truth, from the store -------------------------------------------------------------

    def set_queue(self, queue: QueueConfig) -> None:
        self.queues[queue.id] = queue
        self.matcher.set_queue_strategy(queue.id, Strategy(queue.rules.strategy))

    def set_agent(self, agent: AgentSnapshot, now: float) -> None:
        known = self.agents.get(agent.id)
        if known is not None and agent.version < known.version:
            return
        self.agents[agent.id] = agent
        if known is None:
            self.matcher.add_agent(agent.id, agent.skills, agent.capacity, now=now)
        else:
            self.matcher.update_agent(agent.id, skills=agent.skills, capacity=agent.capacity)
        self.matcher.set_available(agent.id, agent.available, now)
        if agent.available:
            self._misses.pop(agent.id, None)
            self._freed_agents.add(agent.id)

    def remove_agent(self, agent_id: str) -> None:
        if self.agents.pop(agent_id, None) is not None:
            self.matcher.remove_agent(agent_id)

    def set_task(self, task: TaskSnapshot, now: float, *, force: bool = False) -> None:
        """The task as stored. ``force`` after a refused write: the engine's own guess of the
        task may carry the same version as the store's different truth."""
        known = self.tasks.get(task.id)
        if known is not None and task.version <= known.version and not force:
            return
        self._forget(known, now)
        if task.state in ("completed", "cancelled", "abandoned", "timed_out"):
            return
        self.tasks[task.id] = task
        if task.state == "scheduled":
            self._timer(task.not_before or now, "slot", task)
        elif task.state == "queued":
            self._queue(task, now)
        elif task.agent_id is not None and task.agent_id in self.agents:
            self.matcher.add_load(task.agent_id, task.channel)
            if task.state == "assigned":
                self._misses.pop(task.agent_id, None)  # misses count in a row
            if task.state == "reserved" and task.deadline is not None:
                self._timer(task.deadline, "deadline", task)
            elif task.state == "wrap_up":
                self._timer(task.wrap_up_until or now, "wrap_up", task)

    def _forget(self, task: TaskSnapshot | None, now: float) -> None:
        """Undo what a previous snapshot of the task put in the index."""
        if task is None:
            return
        del self.tasks[task.id]
        if task.state == "queued":
            self.matcher.remove_task(task.id)
            self._steps.pop(task.id, None)
            self._new_tasks.discard(task.id)
        elif task.state in HOLDING_STATES and task.agent_id in self.agents:
            self.matcher.release_load(task.agent_id, task.channel, now)
            self._freed_agents.add(task.agent_id)

    def _queue(self, task: TaskSnapshot, now: float) -> None:
        queue = self._queue_of(task)
        waited = max(0.0, now - task.queued_at)
        steps = queue.steps_due(waited)
        asks, priority = queue.effective(task.requirements, task.priority, steps)
        self._steps[task.id] = steps
        self.matcher.add_task(
            task.id, queue.id, task.channel, asks, priority=priority, enqueued_at=task.queued_at
        )
        self._new_tasks.add(task.id)
        self._schedule_overflow(task, queue, waited)

    def _schedule_overflow(self, task: TaskSnapshot, queue: QueueConfig, waited: float) -> None:
        after = queue.next_step_after(waited)
        if after is not None:
            self._timer(task.queued_at + after, "overflow", task)

    def _queue_of(self, task: TaskSnapshot) -> QueueConfig:
        queue = self.queues.get(task.queue_id)
        if queue is None:
            # A queue made after the engine started: default rules until its row is read.
            queue = QueueConfig(task.queue_id)
            self.set_queue(queue)
        return queue

    def _timer(self, due: float, kind: TimerKind, task: TaskSnapshot) -> None:
        heapq.heappush(self._timers, (due, next(self._seq), kind, task.id, task.version))

    # -- decisions ----------------------------------------------------------------------------

    def next_due(self) -> float | None:
        return self._timers[0][0] if self._timers else None

    def step(self, now: float) -> list[Effect]:
        """Fire the timers due by ``now``, then match; the effects to write, in order."""
        while self._timers and self._timers[0][0] <= now:
            _, _, kind, task_id, version = heapq.heappop(self._timers)
            task = self.tasks.get(task_id)
            if task is not None and task.version == version:
                self._fire(kind, task, now)
        self._match(now)
        effects, self._effects = self._effects, []
        return effects

    def _fire(self, kind: TimerKind, task: TaskSnapshot, now: float) -> None:
        if kind == "slot" and task.state == "scheduled":
            self._effects.append(Enqueue(task.id, task.version))
            self._replace(task, now, state="queued", queued_at=task.queued_at or now)
        elif kind == "deadline" and task.state == "reserved" and task.agent_id:
            self._effects.append(Expire(task.id, task.agent_id, task.version))
            agent_id = task.agent_id
            self._replace(task, now, state="queued", agent_id=None, deadline=None)
            self._missed(agent_id, task.queue_id, now)
        elif kind == "wrap_up" and task.state == "wrap_up":
            self._effects.append(EndWrapUp(task.id, task.version))
            self._forget(task, now)
        elif kind == "overflow" and task.state == "queued":
            self._overflow(task, now)

    def _overflow(self, task: TaskSnapshot, now: float) -> None:
        queue = self._queue_of(task)
        waited = now - task.queued_at
        before, steps = self._steps.get(task.id, 0), queue.steps_due(waited)
        for step in queue.rules.overflow[before:steps]:
            if step.offer_callback:
                self._effects.append(OfferCallback(task.id))
            if step.time_out:
                self._effects.append(TimeOut(task.id, task.version))
                self._forget(task, now)
                return
        self._steps[task.id] = steps
        asks, priority = queue.effective(task.requirements, task.priority, steps)
        self.matcher.update_requirements(task.id, asks, priority=priority)
        self._new_tasks.add(task.id)
        self._schedule_overflow(task, queue, waited)

    def note_miss(self, agent_id: str, queue_id: str, now: float = 0.0) -> None:
        """The agent rejected an offer (a lapsed offer is noted by the engine itself)."""
        self._missed(agent_id, queue_id, now)

    def _missed(self, agent_id: str, queue_id: str, now: float) -> None:
        if agent_id in self.agents:
            self.matcher.note_declined(agent_id, now)
        misses = self._misses.get(agent_id, 0) + 1
        self._misses[agent_id] = misses
        queue = self.queues.get(queue_id)
        limit = queue.rules.max_misses if queue else 3
        if misses >= limit and agent_id in self.agents:
            self._effects.append(AgentAway(agent_id, "missed offers"))
            agent = self.agents[agent_id]
            self.agents[agent_id] = replace(agent, available=False)
            self.matcher.set_available(agent_id, False, 0.0)

    def _replace(self, task: TaskSnapshot, now: float, **changes: object) -> None:
        """Apply one of our own effects: the store will hold this once the effect is written."""
        new = replace(task, version=task.version + 1, **changes)  # type: ignore[arg-type]  # dataclass fields
        self._forget(task, now)
        self.tasks[new.id] = new
        if new.state == "queued":
            self._queue(new, now)

    def _match(self, now: float) -> None:
        matcher = self.matcher
        for task_id in sorted(self._new_tasks, key=self._task_order):
            if task_id in self.tasks and self.tasks[task_id].state == "queued":
                chosen = matcher.best_agent_for(task_id)
                if chosen is not None:
                    self._reserve(self.tasks[task_id], chosen, now)
        self._new_tasks.clear()
        for agent_id in sorted(self._freed_agents):
            while agent_id in self.agents:
                next_task = matcher.best_task_for(agent_id)
                if next_task is None:
                    break
                self._reserve(self.tasks[next_task], agent_id, now)
        self._freed_agents.clear()

    def _task_order(self, task_id: str) -> tuple[int, float]:
        task = self.tasks.get(task_id)
        return (-task.priority, task.queued_at) if task else (0, 0.0)

    def _reserve(self, task: TaskSnapshot, agent_id: str, now: float) -> None:
        rules = self._queue_of(task).rules
        self.matcher.assign(task.id, agent_id)
        self._steps.pop(task.id, None)
        deadline = None if rules.auto_accept else now + rules.reservation_timeout_s
        self._effects.append(Reserve(task.id, agent_id, task.version, deadline, rules.auto_accept))
        state: TaskState = "assigned" if rules.auto_accept else "reserved"
        bumped = 2 if rules.auto_accept else 1
        new = replace(
            task, state=state, agent_id=agent_id, deadline=deadline, version=task.version + bumped
        )
        self.tasks[task.id] = new
        if deadline is not None:
            self._timer(deadline, "deadline", new)

    # -- what the wallboard and the widget ask --------------------------------------------------

    def note_handled(self, queue_id: str, seconds: float) -> None:
        """A task of the queue took ``seconds`` from acceptance to the end of wrap-up."""
        known = self._aht.get(queue_id)
        # An exponential average over roughly the last 20 contacts: follows the day's drift.
        self._aht[queue_id] = seconds if known is None else known + (seconds - known) / 20

    def positions(self) -> dict[str, tuple[int, float | None]]:
        """Each queued task's place in its queue (1 = next) and its estimated wait: the tasks
        before it, over the agents who serve the queue, times the queue's recent handling time
        (the classic estimate; queues with no history yet give no estimate)."""
        by_queue: dict[str, list[TaskSnapshot]] = {}
        for t in self.tasks.values():
            if t.state == "queued":
                by_queue.setdefault(t.queue_id, []).append(t)
        out: dict[str, tuple[int, float | None]] = {}
        for queue_id, queued in by_queue.items():
            queued.sort(key=lambda t: (-t.priority, t.queued_at))
            aht = self._aht.get(queue_id)
            staffed = self.matcher.agents_with_skill(f"queue:{queue_id}")
            for i, t in enumerate(queued):
                ewt = aht * (i + 1) / staffed if aht is not None and staffed else None
                out[t.id] = (i + 1, ewt)
        return out
