"""The ACD's matcher: which agent for this task, which task for this agent. Pure, in memory.

Agents are grouped by skill signature (their exact skills and levels) and tasks by channel and
requirement signature (the minimum levels they ask). Which agent signature satisfies which
requirement signature is computed once per pair and cached. Inside a group, heaps give the best
member at once: tasks by priority then age, agents by the key of each strategy. A decision thus
costs one look per group (tens in practice) and a heap operation, never a scan of all agents or
all tasks. Heaps delete lazily: an entry carries the version of its agent or task, and a stale
entry is dropped when it reaches the top.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

# A phone call (voice, or a callback being placed) takes the agent whole.
BLOCKING_CHANNELS = frozenset({"voice", "callback"})

Signature = frozenset[tuple[str, int]]


class Strategy(StrEnum):
    LONGEST_IDLE = "longest_idle"
    LEAST_OCCUPIED = "least_occupied"
    BEST_SKILL = "best_skill"
    ROUND_ROBIN = "round_robin"


class NotEligible(Exception):
    pass


@dataclass(slots=True)
class _Agent:
    id: str
    skills: dict[str, int]
    capacity: dict[str, int]
    signature: Signature
    load: dict[str, int] = field(default_factory=dict)
    total: int = 0
    available: bool = False
    idle_since: float = 0.0
    last_assigned: int = 0
    version: int = 0

    def has_room(self, channel: str) -> bool:
        if not self.available or self.capacity.get(channel, 0) <= 0:
            return False
        if channel in BLOCKING_CHANNELS:
            return self.total == 0
        if any(self.load.get(c, 0) for c in BLOCKING_CHANNELS):
            return False
        return self.load.get(channel, 0) < self.capacity[channel]

    def occupancy(self) -> float:
        room = sum(self.capacity.values())
        return self.total / room if room else 1.0


@dataclass(slots=True)
class _Task:
    id: str
    queue_id: str
    channel: str
    asks: dict[str, int]
    signature: Signature
    priority: int
    enqueued_at: float
    seq: int
    version: int = 0

    def order(self) -> tuple[int, float, int]:
        return (-self.priority, self.enqueued_at, self.seq)


# Agent heaps, per (agent signature, channel): one per strategy key. Best skill needs no heap of
# its own: agents of one signature have the same skills, so inside a group it is longest idle.
_HEAP_KEYS = (Strategy.LONGEST_IDLE, Strategy.LEAST_OCCUPIED, Strategy.ROUND_ROBIN)


def _agent_key(agent: _Agent, strategy: Strategy) -> tuple[float, ...]:
    if strategy is Strategy.LEAST_OCCUPIED:
        return (agent.occupancy(), agent.idle_since)
    if strategy is Strategy.ROUND_ROBIN:
        return (float(agent.last_assigned), agent.idle_since)
    return (agent.idle_since,)


class Matcher:
    def __init__(self) -> None:
        self._agents: dict[str, _Agent] = {}
        self._tasks: dict[str, _Task] = {}
        self._strategies: dict[str, Strategy] = {}
        self._agent_groups: dict[Signature, set[str]] = {}
        self._agent_heaps: dict[
            tuple[Signature, str, Strategy], list[tuple[tuple[float, ...], str, int, str]]
        ] = {}
        self._task_heaps: dict[
            tuple[str, Signature], list[tuple[tuple[int, float, int], int, str]]
        ] = {}
        self._satisfies: dict[tuple[Signature, Signature], bool] = {}
        # Which task groups an agent signature may take, and which agent signatures a
        # requirement signature accepts: computed once, dropped when a new group appears.
        self._task_groups_for: dict[Signature, list[tuple[str, Signature]]] = {}
        self._agent_sigs_for: dict[Signature, list[Signature]] = {}
        self._seq = itertools.count()
        self._assignments = itertools.count(1)

    # -- queues ----------------------------------------------------------------------------

    def set_queue_strategy(self, queue_id: str, strategy: Strategy) -> None:
        self._strategies[queue_id] = strategy

    # -- agents ----------------------------------------------------------------------------

    def add_agent(
        self,
        agent_id: str,
        skills: Mapping[str, int],
        capacity: Mapping[str, int],
        *,
        now: float = 0.0,
    ) -> None:
        if agent_id in self._agents:
            raise ValueError(f"agent {agent_id} is known already")
        agent = _Agent(agent_id, dict(skills), dict(capacity), frozenset(skills.items()))
        agent.idle_since = now
        self._agents[agent_id] = agent
        self._join_group(agent)

    def update_agent(
        self,
        agent_id: str,
        *,
        skills: Mapping[str, int] | None = None,
        capacity: Mapping[str, int] | None = None,
    ) -> None:
        agent = self._agents[agent_id]
        if skills is not None and frozenset(skills.items()) != agent.signature:
            self._leave_group(agent)
            agent.skills = dict(skills)
            agent.signature = frozenset(skills.items())
            self._join_group(agent)
        if capacity is not None:
            agent.capacity = dict(capacity)
        self._touch(agent)

    def remove_agent(self, agent_id: str) -> None:
        agent = self._agents.pop(agent_id, None)
        if agent is not None:
            agent.version += 1  # its heap entries go stale
            self._leave_group(agent)

    def _join_group(self, agent: _Agent) -> None:
        group = self._agent_groups.get(agent.signature)
        if group is None:
            group = self._agent_groups[agent.signature] = set()
            self._agent_sigs_for.clear()
        group.add(agent.id)

    def _leave_group(self, agent: _Agent) -> None:
        group = self._agent_groups.get(agent.signature)
        if group is not None:
            group.discard(agent.id)
            if not group:
                del self._agent_groups[agent.signature]

    def set_available(self, agent_id: str, available: bool, now: float) -> None:
        agent = self._agents[agent_id]
        if available and not agent.available and agent.total == 0:
            agent.idle_since = now
        agent.available = available
        self._touch(agent)

    def add_load(self, agent_id: str, channel: str) -> None:
        agent = self._agents[agent_id]
        agent.load[channel] = agent.load.get(channel, 0) + 1
        agent.total += 1
        self._touch(agent)

    def release_load(self, agent_id: str, channel: str, now: float) -> None:
        agent = self._agents.get(agent_id)
        if agent is None or agent.load.get(channel, 0) <= 0:
            return
        agent.load[channel] -= 1
        agent.total -= 1
        if agent.total == 0:
            agent.idle_since = now
        self._touch(agent)

    def note_declined(self, agent_id: str, now: float) -> None:
        """The agent let an offer go: it moves behind the others, by idle time and by turn, so
        the task tries somebody else before coming back to it."""
        agent = self._agents.get(agent_id)
        if agent is not None:
            agent.idle_since = now
            agent.last_assigned = next(self._assignments)
            self._touch(agent)

    def _touch(self, agent: _Agent) -> None:
        """The agent changed: new heap entries under its new version, where it has room."""
        agent.version += 1
        for channel in agent.capacity:
            if agent.has_room(channel):
                for strategy in _HEAP_KEYS:
                    heap = self._agent_heaps.setdefault((agent.signature, channel, strategy), [])
                    key = _agent_key(agent, strategy)
                    heapq.heappush(heap, (key, agent.id, agent.version, agent.id))
                    if len(heap) > 64 and len(heap) > 4 * len(self._agents):
                        self._compact(heap)

    def _compact(self, heap: list[tuple[tuple[float, ...], str, int, str]]) -> None:
        live = [e for e in heap if self._agent_entry_valid(e)]
        heap[:] = live
        heapq.heapify(heap)

    def _agent_entry_valid(self, entry: tuple[tuple[float, ...], str, int, str]) -> bool:
        agent = self._agents.get(entry[3])
        return agent is not None and agent.version == entry[2]

    def agents_with_skill(self, skill: str) -> int:
        """Logged-in agents (available or busy) holding ``skill``: who serves a queue now."""
        return sum(
            1
            for agent in self._agents.values()
            if (agent.available or agent.total) and agent.skills.get(skill, 0) > 0
        )

    # -- tasks -----------------------------------------------------------------------------

    def add_task(
        self,
        task_id: str,
        queue_id: str,
        channel: str,
        requirements: Mapping[str, int],
        *,
        priority: int = 0,
        enqueued_at: float = 0.0,
    ) -> None:
        if task_id in self._tasks:
            raise ValueError(f"task {task_id} is waiting already")
        task = _Task(
            task_id,
            queue_id,
            channel,
            dict(requirements),
            frozenset(requirements.items()),
            priority,
            enqueued_at,
            next(self._seq),
        )
        self._tasks[task_id] = task
        self._push_task(task)

    def update_requirements(
        self, task_id: str, requirements: Mapping[str, int], *, priority: int | None = None
    ) -> None:
        task = self._tasks[task_id]
        task.asks = dict(requirements)
        task.signature = frozenset(requirements.items())
        if priority is not None:
            task.priority = priority
        task.version += 1
        self._push_task(task)

    def remove_task(self, task_id: str) -> None:
        self._tasks.pop(task_id, None)

    def _push_task(self, task: _Task) -> None:
        key = (task.channel, task.signature)
        heap = self._task_heaps.get(key)
        if heap is None:
            heap = self._task_heaps[key] = []
            self._task_groups_for.clear()
        heapq.heappush(heap, (task.order(), task.version, task.id))

    def _task_head(self, group: tuple[str, Signature]) -> tuple[tuple[int, float, int], str] | None:
        heap = self._task_heaps[group]
        while heap:
            order, version, task_id = heap[0]
            task = self._tasks.get(task_id)
            if task is not None and task.version == version and task.signature == group[1]:
                return order, task_id
            heapq.heappop(heap)
        return None

    @property
    def waiting(self) -> int:
        return len(self._tasks)

    # -- decisions -------------------------------------------------------------------------

    def _fits(self, agent_sig: Signature, asks: Signature) -> bool:
        pair = (agent_sig, asks)
        known = self._satisfies.get(pair)
        if known is None:
            levels = dict(agent_sig)
            known = all(levels.get(skill, 0) >= level for skill, level in asks)
            self._satisfies[pair] = known
        return known

    def best_task_for(self, agent_id: str) -> str | None:
        """The first waiting task, by priority then age, that the agent can take now."""
        agent = self._agents.get(agent_id)
        if agent is None:
            return None
        groups = self._task_groups_for.get(agent.signature)
        if groups is None:
            groups = [g for g in self._task_heaps if self._fits(agent.signature, g[1])]
            self._task_groups_for[agent.signature] = groups
        room: dict[str, bool] = {}
        best: tuple[tuple[int, float, int], str] | None = None
        for group in groups:
            channel = group[0]
            fits = room.get(channel)
            if fits is None:
                fits = room[channel] = agent.has_room(channel)
            if not fits:
                continue
            head = self._task_head(group)
            if head is not None and (best is None or head[0] < best[0]):
                best = head
        return best[1] if best else None

    def best_agent_for(self, task_id: str) -> str | None:
        """The eligible agent the task's queue strategy prefers, or None."""
        task = self._tasks.get(task_id)
        if task is None:
            return None
        strategy = self._strategies.get(task.queue_id, Strategy.LONGEST_IDLE)
        heap_key = Strategy.LONGEST_IDLE if strategy is Strategy.BEST_SKILL else strategy
        signatures = self._agent_sigs_for.get(task.signature)
        if signatures is None:
            signatures = [g for g in self._agent_groups if self._fits(g, task.signature)]
            self._agent_sigs_for[task.signature] = signatures
        best: tuple[tuple[float, ...], str] | None = None
        for signature in signatures:
            if signature not in self._agent_groups:
                continue
            head = self._agent_head(signature, task.channel, heap_key)
            if head is None:
                continue
            key = head[0]
            if strategy is Strategy.BEST_SKILL:
                levels = dict(signature)
                key = (-float(sum(levels.get(s, 0) for s in task.asks)), *key)
            if best is None or (key, head[1]) < best:
                best = (key, head[1])
        return best[1] if best else None

    def _agent_head(
        self, signature: Signature, channel: str, strategy: Strategy
    ) -> tuple[tuple[float, ...], str] | None:
        heap = self._agent_heaps.get((signature, channel, strategy))
        while heap:
            key, _, version, agent_id = heap[0]
            agent = self._agents.get(agent_id)
            if (
                agent is not None
                and agent.version == version
                and agent.signature == signature
                and agent.has_room(channel)
            ):
                return key, agent_id
            heapq.heappop(heap)
        return None

    def assign(self, task_id: str, agent_id: str) -> None:
        """The task leaves the queue for the agent, who carries one more on its channel."""
        task = self._tasks.get(task_id)
        agent = self._agents.get(agent_id)
        if task is None or agent is None:
            raise NotEligible(f"unknown task {task_id} or agent {agent_id}")
        if not agent.has_room(task.channel) or not self._fits(agent.signature, task.signature):
            raise NotEligible(f"agent {agent_id} can't take task {task_id}")
        del self._tasks[task_id]
        agent.last_assigned = next(self._assignments)
        self.add_load(agent_id, task.channel)

    def drain(self) -> Iterator[tuple[str, str]]:
        """Match while some waiting task has an eligible agent (after a rebuild)."""
        while True:
            pairs = [(t.order(), t.id) for t in self._tasks.values()]
            matched = False
            for _, task_id in sorted(pairs):
                agent_id = self.best_agent_for(task_id)
                if agent_id is not None:
                    self.assign(task_id, agent_id)
                    matched = True
                    yield task_id, agent_id
            if not matched:
                return
