"""The ACD's matcher: which agent for this task, which task for this agent. Pure, in memory.

Agents are grouped by skill signature (their exact skills and levels), waiting tasks by channel
and requirement signature (the minimum levels they ask). Which agent groups satisfy which task
groups is worked out once, when a group first appears, and kept. Inside a group a heap gives the
best member at once: tasks by priority, then age, then arrival; agents by the key of each
strategy in use. A decision thus looks at one head per group (tens of groups in practice) and
pays a heap operation, never a scan of all agents or all tasks.

Heaps delete lazily. Every entry carries a token, unique for the life of the matcher; a task or
an agent remembers the token of its one live entry, and any other entry is dropped when it
reaches the top, or when its heap grows past a few times its live size (an amortised rebuild).
An agent's entry is pushed again only when its key changes: taking a second chat changes no
idle time, so costs no push.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

# A phone call (voice, or a callback being placed) takes the agent whole: an agent with load on
# one of these has room for nothing else, and takes one only when it carries nothing at all.
BLOCKING_CHANNELS: frozenset[str] = frozenset({"voice", "callback"})

Signature = frozenset[tuple[str, int]]
AgentKey = tuple[float, ...]  # a strategy's key: lower is better
TaskOrder = tuple[int, float, int]  # (-priority, enqueued_at, arrival sequence)
_AgentEntry = tuple[AgentKey, int, str]  # (key, token, agent id)
_TaskEntry = tuple[TaskOrder, int, str]  # (order, token, task id)

# Stale entries a heap may carry beyond its live size before it is rebuilt: large enough that
# rebuilds are rare (they stay out of the 99th percentile), small enough to bound memory.
_SLACK = 256


class Strategy(StrEnum):
    """How a queue picks among the eligible agents (ties go to the longest idle)."""

    LONGEST_IDLE = "longest_idle"  # smallest idle_since
    LEAST_OCCUPIED = "least_occupied"  # lowest total load / total capacity
    BEST_SKILL = "best_skill"  # highest sum of levels on the skills the task asks
    ROUND_ROBIN = "round_robin"  # least recently assigned


class NotEligible(Exception):
    """``assign`` was asked for an unknown task or agent, or a pair the rules forbid."""


def _heap_strategy(strategy: Strategy) -> Strategy:
    # Agents of one signature have the same skills: inside a group best skill is longest idle.
    return Strategy.LONGEST_IDLE if strategy is Strategy.BEST_SKILL else strategy


def _fits(skills: Mapping[str, int], asks: Mapping[str, int]) -> bool:
    return all(skills.get(skill, 0) >= level for skill, level in asks.items())


def _skill_sum(skills: Mapping[str, int], asks: Mapping[str, int]) -> int:
    return sum(skills.get(skill, 0) for skill in asks)


@dataclass(slots=True, eq=False)
class _AgentGroup:
    """The agents of one skill signature, and their heaps per (channel, strategy)."""

    skills: dict[str, int]
    members: set[str] = field(default_factory=set)
    heaps: dict[tuple[str, Strategy], list[_AgentEntry]] = field(default_factory=dict)
    # The task groups these skills satisfy, by channel: made on first use, then kept up to date.
    task_groups: dict[str, list[_TaskGroup]] | None = None
    fits: dict[_TaskGroup, bool] = field(default_factory=dict)  # does it satisfy that group

    def satisfies(self, tasks: _TaskGroup) -> bool:
        known = self.fits.get(tasks)
        if known is None:
            known = self.fits[tasks] = _fits(self.skills, tasks.asks)
        return known


@dataclass(slots=True, eq=False)
class _TaskGroup:
    """The waiting tasks of one channel and requirement signature, in task order."""

    channel: str
    asks: dict[str, int]
    heap: list[_TaskEntry] = field(default_factory=list)
    size: int = 0  # live tasks; the heap may hold stale entries besides
    # The agent groups that satisfy these asks, with their sum of levels on the skills asked:
    # made on first use, then kept up to date.
    agent_groups: list[tuple[_AgentGroup, int]] | None = None


@dataclass(slots=True, eq=False)
class _Agent:
    id: str
    skills: dict[str, int]
    capacity: dict[str, int]
    group: _AgentGroup
    slots: int = 0  # total capacity
    load: dict[str, int] = field(default_factory=dict)
    total: int = 0
    blocking: int = 0  # load on BLOCKING_CHANNELS
    available: bool = False
    idle_since: float = 0.0
    last_assigned: int = 0
    # (channel, strategy) -> (key, token) of the agent's live entry in its group's heap
    entries: dict[tuple[str, Strategy], tuple[AgentKey, int]] = field(default_factory=dict)

    def has_room(self, channel: str) -> bool:
        if not self.available:
            return False
        if channel in BLOCKING_CHANNELS:
            return self.total == 0 and self.capacity.get(channel, 0) > 0
        return self.blocking == 0 and self.load.get(channel, 0) < self.capacity.get(channel, 0)

    def key(self, strategy: Strategy) -> AgentKey:
        if strategy is Strategy.LEAST_OCCUPIED:
            return (self.total / self.slots if self.slots else 1.0, self.idle_since)
        if strategy is Strategy.ROUND_ROBIN:
            return (float(self.last_assigned), self.idle_since)
        return (self.idle_since,)


@dataclass(slots=True, eq=False)
class _Task:
    id: str
    queue_id: str
    channel: str
    asks: dict[str, int]
    group: _TaskGroup
    priority: int
    enqueued_at: float
    seq: int
    token: int = -1

    def order(self) -> TaskOrder:
        return (-self.priority, self.enqueued_at, self.seq)


class Matcher:
    """The index of waiting tasks and routable agents. Every method is O(#groups + log n).

    Errors: ``add_*`` of a known id raises ValueError; ``update_*``, ``set_available`` and
    ``add_load`` of an unknown id raise KeyError; ``assign`` raises NotEligible. Removing or
    releasing what is not there does nothing, so the engine may replay the store's truth.
    """

    def __init__(self) -> None:
        self._agents: dict[str, _Agent] = {}
        self._tasks: dict[str, _Task] = {}
        self._strategies: dict[str, Strategy] = {}
        self._active = [Strategy.LONGEST_IDLE]  # heap strategies kept; grows, never shrinks
        self._agent_groups: dict[Signature, _AgentGroup] = {}
        self._task_groups: dict[tuple[str, Signature], _TaskGroup] = {}
        self._empty_groups = 0  # agent groups without members plus task groups without tasks
        self._tokens = itertools.count()
        self._seq = itertools.count()
        self._assignments = itertools.count(1)
        self._slack = _SLACK
        self._keep_empty = 16  # empty groups kept before pruning

    # -- queues ----------------------------------------------------------------------------

    def set_queue_strategy(self, queue_id: str, strategy: Strategy) -> None:
        """The strategy ``best_agent_for`` uses for the queue's tasks (default longest idle)."""
        self._strategies[queue_id] = strategy
        kept = _heap_strategy(strategy)
        if kept not in self._active:
            self._active.append(kept)
            for agent in self._agents.values():
                self._push_agent(agent, (kept,))

    # -- agents ----------------------------------------------------------------------------

    def add_agent(
        self, agent_id: str, skills: Mapping[str, int], capacity: Mapping[str, int], *, now: float
    ) -> None:
        """A new agent, not available yet, idle since ``now``. Capacity: channel -> at most."""
        if agent_id in self._agents:
            raise ValueError(f"agent {agent_id} is known already")
        agent = _Agent(agent_id, dict(skills), dict(capacity), self._agent_group(skills))
        agent.slots = sum(agent.capacity.values())
        agent.idle_since = now
        self._agents[agent_id] = agent
        self._join(agent)

    def update_agent(
        self,
        agent_id: str,
        *,
        skills: Mapping[str, int] | None = None,
        capacity: Mapping[str, int] | None = None,
    ) -> None:
        """New skills and/or capacity; load, availability and idle time are kept."""
        agent = self._agents[agent_id]
        if skills is not None and skills != agent.skills:
            self._leave(agent)
            agent.skills = dict(skills)
            agent.group = self._agent_group(skills)
            agent.entries.clear()  # the old group's entries go stale
            self._join(agent)
        if capacity is not None:
            agent.capacity = dict(capacity)
            agent.slots = sum(agent.capacity.values())
        self._push_agent(agent, self._active)

    def remove_agent(self, agent_id: str) -> None:
        """The agent leaves the index (its heap entries go stale)."""
        agent = self._agents.pop(agent_id, None)
        if agent is not None:
            self._leave(agent)

    def set_available(self, agent_id: str, available: bool, now: float) -> None:
        """Presence available and not in wrap-up; an idle agent coming back is idle from now."""
        agent = self._agents[agent_id]
        if available and not agent.available and agent.total == 0:
            agent.idle_since = now
        agent.available = available
        self._push_agent(agent, self._active)

    def add_load(self, agent_id: str, channel: str) -> None:
        """One more task on ``channel``, as the store says (no check: the store is the truth)."""
        agent = self._agents[agent_id]
        agent.load[channel] = agent.load.get(channel, 0) + 1
        agent.total += 1
        if channel in BLOCKING_CHANNELS:
            agent.blocking += 1
        self._push_agent(agent, self._active)

    def release_load(self, agent_id: str, channel: str, now: float) -> None:
        """One task less on ``channel``; an agent left with nothing is idle from ``now``."""
        agent = self._agents.get(agent_id)
        if agent is None or agent.load.get(channel, 0) <= 0:
            return
        agent.load[channel] -= 1
        agent.total -= 1
        if channel in BLOCKING_CHANNELS:
            agent.blocking -= 1
        if agent.total == 0:
            agent.idle_since = now
        self._push_agent(agent, self._active)

    def note_declined(self, agent_id: str, now: float) -> None:
        """The agent let an offer go: it moves behind the others, by idle time and by turn, so
        the task tries somebody else before coming back to it."""
        agent = self._agents.get(agent_id)
        if agent is not None:
            agent.idle_since = now
            agent.last_assigned = next(self._assignments)
            self._push_agent(agent, self._active)

    def agents_with_skill(self, skill: str) -> int:
        """Logged-in agents (available or busy) holding ``skill``: who serves a queue now."""
        agents = self._agents
        return sum(
            1
            for group in self._agent_groups.values()
            if group.skills.get(skill, 0) > 0
            for agent_id in group.members
            if agents[agent_id].available or agents[agent_id].total
        )

    def _agent_group(self, skills: Mapping[str, int]) -> _AgentGroup:
        signature = frozenset(skills.items())
        group = self._agent_groups.get(signature)
        if group is None:
            group = self._agent_groups[signature] = _AgentGroup(dict(skills))
            self._empty_groups += 1
            for tasks in self._task_groups.values():
                if tasks.agent_groups is not None and _fits(group.skills, tasks.asks):
                    tasks.agent_groups.append((group, _skill_sum(group.skills, tasks.asks)))
        return group

    def _join(self, agent: _Agent) -> None:
        if not agent.group.members:
            self._empty_groups -= 1
        agent.group.members.add(agent.id)

    def _leave(self, agent: _Agent) -> None:
        agent.group.members.discard(agent.id)
        if not agent.group.members:
            self._empty_groups += 1
            self._prune()

    def _push_agent(self, agent: _Agent, strategies: Iterable[Strategy]) -> None:
        """Push an entry wherever the agent has room and its key changed since its last entry.
        Where it has no room nothing is pushed: its old entry is dropped on reaching the top."""
        if not agent.available or agent.blocking:
            return
        keys: list[tuple[Strategy, AgentKey]] | None = None
        heaps = agent.group.heaps
        for channel in agent.capacity:
            if not agent.has_room(channel):
                continue
            if keys is None:
                keys = [(strategy, agent.key(strategy)) for strategy in strategies]
            for strategy, key in keys:
                slot = (channel, strategy)
                known = agent.entries.get(slot)
                if known is not None and known[0] == key:
                    continue
                token = next(self._tokens)
                agent.entries[slot] = (key, token)
                heap = heaps.get(slot)
                if heap is None:
                    heap = heaps[slot] = []
                heapq.heappush(heap, (key, token, agent.id))
                if len(heap) > 4 * len(agent.group.members) + self._slack:
                    heap[:] = [e for e in heap if self._agent_live(e, slot)]
                    heapq.heapify(heap)

    def _agent_live(self, entry: _AgentEntry, slot: tuple[str, Strategy]) -> bool:
        agent = self._agents.get(entry[2])
        known = agent.entries.get(slot) if agent is not None else None
        return known is not None and known[1] == entry[1]

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
        """A task starts waiting. Requirements: skill -> minimum level (empty: anyone)."""
        if task_id in self._tasks:
            raise ValueError(f"task {task_id} is waiting already")
        group = self._task_group(channel, requirements)
        asks = dict(requirements)
        task = _Task(
            task_id, queue_id, channel, asks, group, priority, enqueued_at, next(self._seq)
        )
        self._tasks[task_id] = task
        self._push_task(task)

    def update_requirements(
        self, task_id: str, requirements: Mapping[str, int], *, priority: int | None = None
    ) -> None:
        """A waiting task asks for other skills (overflow), and maybe at another priority; it
        keeps its place among tasks of the same priority and age."""
        task = self._tasks[task_id]
        if requirements == task.asks and priority in (None, task.priority):
            return
        self._drop_task(task)
        task.asks = dict(requirements)
        task.group = self._task_group(task.channel, requirements)
        if priority is not None:
            task.priority = priority
        self._push_task(task)

    def remove_task(self, task_id: str) -> None:
        """The task stops waiting (answered elsewhere, abandoned, timed out)."""
        task = self._tasks.pop(task_id, None)
        if task is not None:
            self._drop_task(task)

    @property
    def waiting(self) -> int:
        """How many tasks wait."""
        return len(self._tasks)

    def _task_group(self, channel: str, requirements: Mapping[str, int]) -> _TaskGroup:
        signature = frozenset(requirements.items())
        group = self._task_groups.get((channel, signature))
        if group is None:
            group = self._task_groups[(channel, signature)] = _TaskGroup(
                channel, dict(requirements)
            )
            self._empty_groups += 1
            for agents in self._agent_groups.values():
                if agents.task_groups is not None and _fits(agents.skills, group.asks):
                    agents.task_groups.setdefault(channel, []).append(group)
        return group

    def _push_task(self, task: _Task) -> None:
        group = task.group
        if not group.size:
            self._empty_groups -= 1
        group.size += 1
        task.token = next(self._tokens)
        heapq.heappush(group.heap, (task.order(), task.token, task.id))
        if len(group.heap) > 2 * group.size + self._slack:
            tasks = self._tasks
            group.heap[:] = [e for e in group.heap if (t := tasks.get(e[2])) and t.token == e[1]]
            heapq.heapify(group.heap)

    def _drop_task(self, task: _Task) -> None:
        task.token = -1  # its entry goes stale
        task.group.size -= 1
        if not task.group.size:
            self._empty_groups += 1
            self._prune()

    def _task_head(self, group: _TaskGroup) -> _TaskEntry | None:
        heap, tasks = group.heap, self._tasks
        while heap:
            entry = heap[0]
            task = tasks.get(entry[2])
            if task is not None and task.token == entry[1]:
                return entry
            heapq.heappop(heap)
        return None

    def _prune(self) -> None:
        """Forget empty groups once they outnumber the others (signatures that came and went)."""
        if self._empty_groups <= self._keep_empty or 2 * self._empty_groups <= len(
            self._agent_groups
        ) + len(self._task_groups):
            return
        self._agent_groups = {s: g for s, g in self._agent_groups.items() if g.members}
        self._task_groups = {k: g for k, g in self._task_groups.items() if g.size}
        self._empty_groups = 0
        for agents in self._agent_groups.values():
            agents.task_groups = None
            agents.fits.clear()
        for tasks in self._task_groups.values():
            tasks.agent_groups = None

    # -- decisions -------------------------------------------------------------------------

    def best_task_for(self, agent_id: str) -> str | None:
        """The first waiting task in task order (priority, then age) the agent can take now."""
        agent = self._agents.get(agent_id)
        if agent is None or not agent.available:
            return None
        channels = agent.group.task_groups
        if channels is None:
            channels = agent.group.task_groups = {}
            for group in self._task_groups.values():
                if _fits(agent.skills, group.asks):
                    channels.setdefault(group.channel, []).append(group)
        best: _TaskEntry | None = None
        for channel, groups in channels.items():
            if not agent.has_room(channel):
                continue
            for group in groups:
                head = self._task_head(group)
                if head is not None and (best is None or head < best):
                    best = head
        return best[2] if best is not None else None

    def best_agent_for(self, task_id: str) -> str | None:
        """The eligible agent the task's queue strategy prefers, or None."""
        task = self._tasks.get(task_id)
        if task is None:
            return None
        strategy = self._strategies.get(task.queue_id, Strategy.LONGEST_IDLE)
        slot = (task.channel, _heap_strategy(strategy))
        best_skill = strategy is Strategy.BEST_SKILL
        best: tuple[AgentKey, str] | None = None
        fitting = task.group.agent_groups
        if fitting is None:
            fitting = task.group.agent_groups = [
                (group, _skill_sum(group.skills, task.asks))
                for group in self._agent_groups.values()
                if _fits(group.skills, task.asks)
            ]
        for group, skill_sum in fitting:
            heap = group.heaps.get(slot)
            if not heap:
                continue
            head = self._agent_head(heap, slot)
            if head is None:
                continue
            key = (-float(skill_sum), *head[0]) if best_skill else head[0]
            if best is None or (key, head[2]) < best:
                best = (key, head[2])
        return best[1] if best is not None else None

    def _agent_head(
        self, heap: list[_AgentEntry], slot: tuple[str, Strategy]
    ) -> _AgentEntry | None:
        agents = self._agents
        while heap:
            entry = heap[0]
            agent = agents.get(entry[2])
            known = agent.entries.get(slot) if agent is not None else None
            if agent is not None and known is not None and known[1] == entry[1]:
                if agent.has_room(slot[0]):
                    return entry
                del agent.entries[slot]  # pushed again when it has room
            heapq.heappop(heap)
        return None

    def assign(self, task_id: str, agent_id: str) -> None:
        """The task stops waiting and the agent carries it: its turn (round robin) is now."""
        task = self._tasks.get(task_id)
        agent = self._agents.get(agent_id)
        if task is None or agent is None:
            raise NotEligible(f"unknown task {task_id} or agent {agent_id}")
        if not agent.has_room(task.channel) or not agent.group.satisfies(task.group):
            raise NotEligible(f"agent {agent_id} can't take task {task_id}")
        del self._tasks[task_id]
        self._drop_task(task)
        agent.last_assigned = next(self._assignments)
        self.add_load(agent_id, task.channel)

    def drain(self) -> Iterator[tuple[str, str]]:
        """Assign, in task order, every waiting task some agent can take, each to its best
        agent; yields (task id, agent id) as it goes. For a rebuild or a bulk change. A task
        group found with no agent is not looked at again by this run: call it again after
        changes made between two pairs."""
        blocked: set[tuple[str, Signature]] = set()
        while True:
            best: _TaskEntry | None = None
            for key, group in self._task_groups.items():
                if key in blocked:
                    continue
                head = self._task_head(group)
                if head is None:
                    continue
                if best is None or head < best:
                    best, best_key = head, key
            if best is None:
                return
            agent_id = self.best_agent_for(best[2])
            if agent_id is None:
                blocked.add(best_key)
                continue
            self.assign(best[2], agent_id)
            yield best[2], agent_id
