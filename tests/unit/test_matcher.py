"""The ACD matcher: the rules by example, then random sequences of changes and decisions held
against a naive reference that scans every agent and every task."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from relais.routing.matcher import BLOCKING_CHANNELS, Matcher, NotEligible, Strategy

CAPACITY = {"chat": 3, "email": 2, "voice": 1, "callback": 1}


def matcher(*agents: tuple[str, Mapping[str, int]], strategy: Strategy | None = None) -> Matcher:
    """Agents available in the order given (the first is the longest idle), queue "q"."""
    m = Matcher()
    if strategy is not None:
        m.set_queue_strategy("q", strategy)
    for i, (agent_id, skills) in enumerate(agents):
        m.add_agent(agent_id, skills, CAPACITY, now=float(i))
        m.set_available(agent_id, True, float(i))
    return m


# -- the rules, by example ---------------------------------------------------------------------


def test_french_task_goes_to_french_speaking_agent() -> None:
    m = matcher(("en", {"lang:en": 5}), ("fr", {"lang:fr": 5}))
    m.add_task("t", "q", "chat", {"lang:fr": 1})
    assert m.best_agent_for("t") == "fr"
    assert m.best_task_for("en") is None
    assert m.best_task_for("fr") == "t"


def test_task_without_requirements_goes_to_anyone() -> None:
    m = matcher(("a", {}), ("b", {"lang:fr": 3}))
    m.add_task("t", "q", "email", {})
    assert m.best_agent_for("t") == "a"


def test_skill_below_the_minimum_level_does_not_qualify() -> None:
    m = matcher(("novice", {"product:tv": 2}), ("expert", {"product:tv": 7}))
    m.add_task("t", "q", "chat", {"product:tv": 5})
    assert m.best_agent_for("t") == "expert"
    assert m.best_task_for("novice") is None


def test_voice_call_blocks_other_channels() -> None:
    m = matcher(("a", {}))
    m.add_task("call", "q", "voice", {})
    m.assign("call", "a")
    m.add_task("chat", "q", "chat", {})
    m.add_task("mail", "q", "email", {})
    assert m.best_agent_for("chat") is None
    assert m.best_task_for("a") is None
    with pytest.raises(NotEligible):
        m.assign("chat", "a")
    m.release_load("a", "voice", 10.0)
    assert m.best_task_for("a") == "chat"


def test_callback_is_a_phone_call_and_blocks_too() -> None:
    assert {"voice", "callback"} == BLOCKING_CHANNELS
    m = matcher(("a", {}))
    m.add_task("cb", "q", "callback", {})
    m.assign("cb", "a")
    m.add_task("mail", "q", "email", {})
    assert m.best_agent_for("mail") is None


def test_agent_takes_a_call_only_when_carrying_nothing() -> None:
    m = matcher(("a", {}))
    m.add_task("chat", "q", "chat", {})
    m.assign("chat", "a")
    m.add_task("call", "q", "voice", {})
    assert m.best_agent_for("call") is None
    m.release_load("a", "chat", 5.0)
    assert m.best_agent_for("call") == "a"


def test_chats_fill_up_to_capacity() -> None:
    m = matcher(("a", {}))
    for i in range(4):
        m.add_task(f"t{i}", "q", "chat", {}, enqueued_at=float(i))
    for i in range(3):
        assert m.best_task_for("a") == f"t{i}"
        m.assign(f"t{i}", "a")
    assert m.best_task_for("a") is None
    assert m.best_agent_for("t3") is None


def test_unavailable_agent_gets_nothing() -> None:
    m = matcher(("a", {}))
    m.add_task("t", "q", "chat", {})
    m.set_available("a", False, 1.0)
    assert m.best_agent_for("t") is None
    assert m.best_task_for("a") is None
    with pytest.raises(NotEligible):
        m.assign("t", "a")
    m.set_available("a", True, 2.0)
    assert m.best_agent_for("t") == "a"


def test_agent_back_from_away_with_a_chat_is_found_again() -> None:
    m = matcher(("a", {}), ("b", {}))
    m.add_task("t", "q", "chat", {})
    m.assign("t", "a")
    m.set_available("a", False, 5.0)
    m.add_task("u", "q", "email", {})
    assert m.best_agent_for("u") == "b"
    m.remove_agent("b")
    assert m.best_agent_for("u") is None
    m.set_available("a", True, 6.0)  # still holds its chat: idle since 0 still
    assert m.best_agent_for("u") == "a"


def test_agent_that_filled_up_and_frees_a_chat_is_found_again() -> None:
    m = matcher(("a", {}))
    for i in range(4):
        m.add_task(f"t{i}", "q", "chat", {})
    for i in range(3):
        m.assign(f"t{i}", "a")
    assert m.best_agent_for("t3") is None
    m.release_load("a", "chat", 9.0)
    assert m.best_agent_for("t3") == "a"


def test_higher_priority_task_is_taken_before_an_older_one() -> None:
    m = matcher(("a", {}))
    m.add_task("old", "q", "chat", {}, enqueued_at=1.0)
    m.add_task("urgent", "q", "chat", {}, priority=5, enqueued_at=9.0)
    assert m.best_task_for("a") == "urgent"


def test_tasks_of_equal_priority_go_oldest_first_then_in_arrival_order() -> None:
    m = matcher(("a", {}))
    m.add_task("second", "q", "chat", {}, enqueued_at=5.0)
    m.add_task("third", "q", "email", {}, enqueued_at=5.0)
    m.add_task("first", "q", "chat", {"lang:fr": 1}, enqueued_at=2.0)
    m.update_agent("a", skills={"lang:fr": 1})
    assert list(m.drain()) == [("first", "a"), ("second", "a"), ("third", "a")]


def test_agent_takes_the_first_task_across_every_queue_it_serves() -> None:
    m = matcher(("a", {"queue:sales": 2, "queue:support": 2}))
    m.add_task("support", "support", "chat", {"queue:support": 2}, enqueued_at=1.0)
    m.add_task("sales", "sales", "email", {"queue:sales": 2}, enqueued_at=2.0)
    m.add_task("other", "other", "chat", {"queue:other": 2}, enqueued_at=0.0)
    assert m.best_task_for("a") == "support"


def test_longest_idle_agent_is_chosen_first() -> None:
    m = matcher(("a", {}), ("b", {}), ("c", {}))
    m.add_task("t", "q", "chat", {})
    assert m.best_agent_for("t") == "a"
    m.assign("t", "a")
    m.release_load("a", "chat", 10.0)  # idle again, but since 10
    m.add_task("u", "q", "chat", {})
    assert m.best_agent_for("u") == "b"


def test_idle_time_moves_only_when_the_last_task_is_released() -> None:
    m = matcher(("a", {}), ("b", {}))
    for i in range(3):
        m.add_task(f"t{i}", "q", "chat", {})
    m.assign("t0", "a")
    m.assign("t1", "a")
    m.release_load("a", "chat", 10.0)  # still one chat: idle since 0 still
    assert m.best_agent_for("t2") == "a"
    m.release_load("a", "chat", 11.0)
    assert m.best_agent_for("t2") == "b"


def test_least_occupied_prefers_the_agent_with_fewer_tasks_for_its_capacity() -> None:
    m = matcher(("a", {}), ("b", {}), strategy=Strategy.LEAST_OCCUPIED)
    m.update_agent("b", capacity={"chat": 6, "email": 2})  # 1 of 8 beats 1 of 7
    for i in range(3):
        m.add_task(f"t{i}", "q", "chat", {})
    m.assign("t0", "a")
    m.assign("t1", "b")
    assert m.best_agent_for("t2") == "b"


def test_least_occupied_breaks_ties_by_longest_idle() -> None:
    m = matcher(("a", {}), ("b", {}), strategy=Strategy.LEAST_OCCUPIED)
    m.add_task("t", "q", "email", {})
    assert m.best_agent_for("t") == "a"


def test_best_skill_prefers_the_higher_levels_then_the_longest_idle() -> None:
    m = matcher(
        ("fr3", {"lang:fr": 3, "product:tv": 3}),
        ("fr9", {"lang:fr": 9, "product:tv": 1}),
        ("fr9b", {"lang:fr": 9, "product:tv": 1}),
        ("fr5", {"lang:fr": 5, "product:tv": 9}),
        strategy=Strategy.BEST_SKILL,
    )
    m.add_task("t", "q", "chat", {"lang:fr": 2})
    assert m.best_agent_for("t") == "fr9"  # fr5 is better at TV, which the task does not ask
    m.add_task("both", "q", "chat", {"lang:fr": 2, "product:tv": 1})
    assert m.best_agent_for("both") == "fr5"  # 14 beats 10


def test_round_robin_rotates() -> None:
    m = matcher(("a", {}), ("b", {}), ("c", {}), strategy=Strategy.ROUND_ROBIN)
    chosen = []
    for i in range(6):
        m.add_task(f"t{i}", "q", "chat", {})
        agent = m.best_agent_for(f"t{i}")
        assert agent is not None
        m.assign(f"t{i}", agent)
        m.release_load(agent, "chat", 100.0 - i)  # idle times would say otherwise
        chosen.append(agent)
    assert chosen == ["a", "b", "c", "a", "b", "c"]


def test_each_queue_uses_its_own_strategy() -> None:
    m = matcher(("a", {}), ("b", {}))
    m.set_queue_strategy("rr", Strategy.ROUND_ROBIN)
    m.add_task("t", "q", "chat", {})
    m.assign("t", "a")  # a: most recently assigned, and still the longest idle
    m.add_task("li", "q", "chat", {})
    m.add_task("rr", "rr", "chat", {})
    assert m.best_agent_for("li") == "a"
    assert m.best_agent_for("rr") == "b"


def test_declined_offer_moves_the_agent_behind_the_others() -> None:
    m = matcher(("a", {}), ("b", {}), strategy=Strategy.ROUND_ROBIN)
    m.set_queue_strategy("li", Strategy.LONGEST_IDLE)
    m.add_task("t", "q", "chat", {})
    m.add_task("u", "li", "chat", {})
    m.note_declined("a", 50.0)
    assert m.best_agent_for("t") == "b"
    assert m.best_agent_for("u") == "b"


def test_overflow_widens_a_task_to_more_agents() -> None:
    m = matcher(("overflow", {"queue:q": 1}))
    m.add_task("t", "q", "chat", {"queue:q": 2})
    assert m.best_agent_for("t") is None
    m.update_requirements("t", {"queue:q": 1})
    assert m.best_agent_for("t") == "overflow"
    assert m.best_task_for("overflow") == "t"


def test_priority_boost_moves_a_task_ahead_and_keeps_its_age() -> None:
    m = matcher(("a", {}))
    m.add_task("old", "q", "chat", {}, enqueued_at=1.0)
    m.add_task("new", "q", "chat", {}, enqueued_at=2.0)
    m.update_requirements("new", {}, priority=1)
    assert m.best_task_for("a") == "new"
    m.update_requirements("old", {}, priority=1)
    assert m.best_task_for("a") == "old"


def test_task_is_never_assigned_twice() -> None:
    m = matcher(("a", {}), ("b", {}))
    m.add_task("t", "q", "chat", {})
    m.assign("t", "a")
    with pytest.raises(NotEligible):
        m.assign("t", "b")
    assert m.best_task_for("b") is None
    assert m.best_agent_for("t") is None
    assert m.waiting == 0


def test_task_added_again_takes_its_new_place() -> None:
    m = matcher(("a", {}))
    m.add_task("t", "q", "chat", {}, priority=5)
    m.add_task("u", "q", "chat", {}, priority=1)
    m.remove_task("t")
    m.add_task("t", "q", "chat", {}, priority=0)  # an offer lapsed: back in the queue
    assert m.best_task_for("a") == "u"
    with pytest.raises(ValueError, match="waiting already"):
        m.add_task("t", "q", "chat", {})


def test_agent_added_again_is_ranked_by_its_new_state() -> None:
    m = matcher(("a", {}), ("b", {}))
    m.remove_agent("a")
    m.add_agent("a", {}, CAPACITY, now=20.0)
    m.set_available("a", True, 20.0)
    m.add_task("t", "q", "chat", {})
    assert m.best_agent_for("t") == "b"
    m.remove_agent("b")
    assert m.best_agent_for("t") == "a"


def test_new_skills_take_effect_at_once() -> None:
    m = matcher(("a", {"lang:en": 5}))
    m.add_task("t", "q", "chat", {"lang:fr": 1})
    assert m.best_task_for("a") is None
    m.update_agent("a", skills={"lang:fr": 5})
    assert m.best_task_for("a") == "t"
    m.update_agent("a", capacity={"email": 1})
    assert m.best_task_for("a") is None


def test_strategy_chosen_after_agents_joined_covers_them() -> None:
    m = matcher(("a", {}), ("b", {}))
    m.add_task("x", "q", "chat", {})
    m.assign("x", "a")
    m.set_queue_strategy("q", Strategy.LEAST_OCCUPIED)
    m.add_task("t", "q", "chat", {})
    assert m.best_agent_for("t") == "b"


def test_drain_matches_every_task_that_has_an_agent() -> None:
    m = Matcher()
    m.add_agent("fr", {"lang:fr": 3}, {"chat": 2}, now=0.0)
    m.set_available("fr", True, 0.0)
    for i, lang in enumerate(["fr", "de", "fr", "fr"]):
        m.add_task(f"t{i}", "q", "chat", {f"lang:{lang}": 1}, enqueued_at=float(i))
    assert list(m.drain()) == [("t0", "fr"), ("t2", "fr")]
    assert m.waiting == 2


def test_agents_with_skill_counts_logged_in_agents() -> None:
    m = matcher(("a", {"queue:q": 2}), ("b", {"queue:q": 1}), ("c", {"queue:r": 2}))
    m.add_agent("away", {"queue:q": 2}, CAPACITY, now=0.0)
    assert m.agents_with_skill("queue:q") == 2


def test_signatures_that_come_and_go_are_forgotten() -> None:
    m = matcher(("a", {}))
    for i in range(100):  # a signature and a task group each, gone at once
        m.add_agent(f"x{i}", {f"s{i}": 1}, CAPACITY, now=0.0)
        m.add_task(f"t{i}", "q", "chat", {f"s{i}": 1})
        m.remove_agent(f"x{i}")
        m.remove_task(f"t{i}")
    assert len(m._agent_groups) + len(m._task_groups) < 40  # white box: the groups kept
    m.add_task("t", "q", "chat", {})
    assert m.best_agent_for("t") == "a"
    assert m.best_task_for("a") == "t"


def test_unknown_ids() -> None:
    m = matcher(("a", {}))
    assert m.best_task_for("nobody") is None
    assert m.best_agent_for("nothing") is None
    m.remove_task("nothing")
    m.remove_agent("nobody")
    m.release_load("nobody", "chat", 0.0)
    with pytest.raises(KeyError):
        m.set_available("nobody", True, 0.0)
    with pytest.raises(ValueError, match="known already"):
        m.add_agent("a", {}, {}, now=0.0)
    m.add_task("t", "q", "chat", {})
    with pytest.raises(NotEligible):
        m.assign("t", "nobody")


# -- random sequences against a naive reference ------------------------------------------------

AGENTS = [f"a{i}" for i in range(5)]
TASKS = [f"t{i}" for i in range(8)]
QUEUES = ["q0", "q1", "q2"]
CHANNELS = ["chat", "email", "voice", "callback"]
SKILLS = ["lang:fr", "lang:en", "product:tv"]

skill_maps = st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 3), max_size=3)
asks_maps = st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 2), max_size=2)
capacities = st.sampled_from(
    [CAPACITY, {"chat": 2, "email": 1}, {"chat": 2, "voice": 1}, {"email": 1, "callback": 1}]
) | st.dictionaries(st.sampled_from(CHANNELS), st.integers(0, 2), max_size=4)


@dataclass
class RefAgent:
    skills: dict[str, int]
    capacity: dict[str, int]
    idle_since: float
    available: bool = False
    load: dict[str, int] = field(default_factory=dict)
    last_assigned: int = 0

    @property
    def total(self) -> int:
        return sum(self.load.values())

    def has_room(self, channel: str) -> bool:
        if not self.available:
            return False
        if channel in BLOCKING_CHANNELS:
            return self.total == 0 and self.capacity.get(channel, 0) > 0
        if any(self.load.get(c, 0) for c in BLOCKING_CHANNELS):
            return False
        return self.load.get(channel, 0) < self.capacity.get(channel, 0)


@dataclass
class RefTask:
    queue_id: str
    channel: str
    asks: dict[str, int]
    priority: int
    enqueued_at: float
    seq: int


class Reference:
    """The matcher's rules by brute force: every decision scans everything."""

    def __init__(self) -> None:
        self.agents: dict[str, RefAgent] = {}
        self.tasks: dict[str, RefTask] = {}
        self.strategies: dict[str, Strategy] = {}
        self.seq = 0
        self.turn = 0

    def eligible(self, agent_id: str, task_id: str) -> bool:
        a, t = self.agents[agent_id], self.tasks[task_id]
        return a.has_room(t.channel) and all(a.skills.get(s, 0) >= v for s, v in t.asks.items())

    def order(self, task_id: str) -> tuple[int, float, int]:
        t = self.tasks[task_id]
        return (-t.priority, t.enqueued_at, t.seq)

    def key(self, agent_id: str, task_id: str) -> tuple[float, ...]:
        a, t = self.agents[agent_id], self.tasks[task_id]
        strategy = self.strategies.get(t.queue_id, Strategy.LONGEST_IDLE)
        if strategy is Strategy.LEAST_OCCUPIED:
            slots = sum(a.capacity.values())
            return (a.total / slots if slots else 1.0, a.idle_since)
        if strategy is Strategy.BEST_SKILL:
            return (-float(sum(a.skills.get(s, 0) for s in t.asks)), a.idle_since)
        if strategy is Strategy.ROUND_ROBIN:
            return (float(a.last_assigned), a.idle_since)
        return (a.idle_since,)

    def best_task_for(self, agent_id: str) -> str | None:
        fitting = [t for t in self.tasks if self.eligible(agent_id, t)]
        return min(fitting, key=self.order, default=None)

    def best_key(self, task_id: str) -> tuple[float, ...] | None:
        keys = [self.key(a, task_id) for a in self.agents if self.eligible(a, task_id)]
        return min(keys, default=None)

    def assign(self, task_id: str, agent_id: str) -> None:
        t, a = self.tasks.pop(task_id), self.agents[agent_id]
        self.turn += 1
        a.last_assigned = self.turn
        a.load[t.channel] = a.load.get(t.channel, 0) + 1


class MatcherMachine(RuleBasedStateMachine):
    check_every_step = True  # every agent and task asked after each step

    def __init__(self) -> None:
        super().__init__()
        self.m = Matcher()
        self.ref = Reference()
        self.now = 0.0

    @initialize(skills=st.lists(skill_maps, min_size=3, max_size=3))
    def staffed(self, skills: list[dict[str, int]]) -> None:
        """Three agents at work from the start, so that decisions have somebody to pick."""
        for agent, agent_skills in zip(AGENTS, skills, strict=False):
            self.add_agent(agent, agent_skills, CAPACITY, True)

    @rule(tick=st.integers(0, 2))
    def time_passes(self, tick: int) -> None:
        self.now += tick

    @rule(queue=st.sampled_from(QUEUES), strategy=st.sampled_from(list(Strategy)))
    def set_queue_strategy(self, queue: str, strategy: Strategy) -> None:
        self.m.set_queue_strategy(queue, strategy)
        self.ref.strategies[queue] = strategy

    @rule(
        agent=st.sampled_from(AGENTS),
        skills=skill_maps,
        capacity=capacities,
        available=st.booleans(),
    )
    def add_agent(
        self, agent: str, skills: dict[str, int], capacity: dict[str, int], available: bool
    ) -> None:
        if agent in self.ref.agents:
            with pytest.raises(ValueError, match="known already"):
                self.m.add_agent(agent, skills, capacity, now=self.now)
            return
        self.m.add_agent(agent, skills, capacity, now=self.now)
        self.ref.agents[agent] = RefAgent(dict(skills), dict(capacity), self.now)
        self.set_available(agent, available)

    @rule(
        agent=st.sampled_from(AGENTS),
        skills=st.none() | skill_maps,
        capacity=st.none() | capacities,
    )
    def update_agent(
        self, agent: str, skills: dict[str, int] | None, capacity: dict[str, int] | None
    ) -> None:
        if agent not in self.ref.agents:
            return
        self.m.update_agent(agent, skills=skills, capacity=capacity)
        if skills is not None:
            self.ref.agents[agent].skills = dict(skills)
        if capacity is not None:
            self.ref.agents[agent].capacity = dict(capacity)

    @rule(agent=st.sampled_from(AGENTS))
    def remove_agent(self, agent: str) -> None:
        self.m.remove_agent(agent)
        self.ref.agents.pop(agent, None)

    @rule(agent=st.sampled_from(AGENTS), available=st.booleans())
    def set_available(self, agent: str, available: bool) -> None:
        a = self.ref.agents.get(agent)
        if a is None:
            return
        self.m.set_available(agent, available, self.now)
        if available and not a.available and a.total == 0:
            a.idle_since = self.now
        a.available = available

    @rule(agent=st.sampled_from(AGENTS), channel=st.sampled_from(CHANNELS))
    def add_load(self, agent: str, channel: str) -> None:
        """The store says the agent holds one more (rebuild): only where it had room."""
        a = self.ref.agents.get(agent)
        if a is None or not a.has_room(channel):
            return
        self.m.add_load(agent, channel)
        a.load[channel] = a.load.get(channel, 0) + 1

    @rule(agent=st.sampled_from(AGENTS), channel=st.sampled_from(CHANNELS))
    def release_load(self, agent: str, channel: str) -> None:
        self.m.release_load(agent, channel, self.now)
        a = self.ref.agents.get(agent)
        if a is not None and a.load.get(channel, 0) > 0:
            a.load[channel] -= 1
            if a.total == 0:
                a.idle_since = self.now

    @rule(agent=st.sampled_from(AGENTS))
    def note_declined(self, agent: str) -> None:
        self.m.note_declined(agent, self.now)
        a = self.ref.agents.get(agent)
        if a is not None:
            self.ref.turn += 1
            a.last_assigned = self.ref.turn
            a.idle_since = self.now

    @rule(
        task=st.sampled_from(TASKS),
        queue=st.sampled_from(QUEUES),
        channel=st.sampled_from(CHANNELS),
        asks=asks_maps,
        priority=st.integers(0, 2),
        enqueued_at=st.integers(0, 4),
    )
    def add_task(
        self,
        task: str,
        queue: str,
        channel: str,
        asks: dict[str, int],
        priority: int,
        enqueued_at: int,
    ) -> None:
        at = float(enqueued_at)
        if task in self.ref.tasks:
            with pytest.raises(ValueError, match="waiting already"):
                self.m.add_task(task, queue, channel, asks, priority=priority, enqueued_at=at)
            return
        self.m.add_task(task, queue, channel, asks, priority=priority, enqueued_at=at)
        self.ref.tasks[task] = RefTask(queue, channel, dict(asks), priority, at, self.ref.seq)
        self.ref.seq += 1

    @rule(task=st.sampled_from(TASKS), asks=asks_maps, priority=st.none() | st.integers(0, 3))
    def update_requirements(self, task: str, asks: dict[str, int], priority: int | None) -> None:
        t = self.ref.tasks.get(task)
        if t is None:
            return
        self.m.update_requirements(task, asks, priority=priority)
        t.asks = dict(asks)
        if priority is not None:
            t.priority = priority

    @rule(task=st.sampled_from(TASKS))
    def remove_task(self, task: str) -> None:
        self.m.remove_task(task)
        self.ref.tasks.pop(task, None)

    @rule(agent=st.sampled_from(AGENTS), take=st.booleans())
    def agent_frees_up(self, agent: str, take: bool) -> None:
        chosen = self.m.best_task_for(agent)
        expected = self.ref.best_task_for(agent) if agent in self.ref.agents else None
        assert chosen == expected
        if chosen is not None and take:
            self.assign(chosen, agent)

    @rule(task=st.sampled_from(TASKS), take=st.booleans())
    def task_arrives(self, task: str, take: bool) -> None:
        chosen = self.m.best_agent_for(task)
        if task not in self.ref.tasks:
            assert chosen is None
            return
        self.check_best_agent(task, chosen)
        if chosen is not None and take:
            self.assign(task, chosen)

    @rule(task=st.sampled_from(TASKS), agent=st.sampled_from(AGENTS))
    def assign_any(self, task: str, agent: str) -> None:
        if task in self.ref.tasks and agent in self.ref.agents and self.ref.eligible(agent, task):
            self.assign(task, agent)
        else:
            with pytest.raises(NotEligible):
                self.m.assign(task, agent)

    @rule()
    def drain(self) -> None:
        for task, agent in self.m.drain():
            waiting = sorted(self.ref.tasks, key=self.ref.order)
            matchable = [t for t in waiting if self.ref.best_key(t) is not None]
            assert task == matchable[0]
            self.check_best_agent(task, agent)
            self.ref.assign(task, agent)
        assert all(self.ref.best_key(t) is None for t in self.ref.tasks)

    def assign(self, task: str, agent: str) -> None:
        self.m.assign(task, agent)
        channel = self.ref.tasks[task].channel
        self.ref.assign(task, agent)
        a = self.ref.agents[agent]
        assert a.load[channel] <= a.capacity[channel]
        if channel in BLOCKING_CHANNELS:
            assert a.total == 1
        else:
            assert not any(a.load.get(c, 0) for c in BLOCKING_CHANNELS)
        with pytest.raises(NotEligible):  # never twice
            self.m.assign(task, agent)

    def check_best_agent(self, task: str, chosen: str | None) -> None:
        best = self.ref.best_key(task)
        if best is None:
            assert chosen is None
        else:
            assert chosen is not None and self.ref.eligible(chosen, task)
            assert self.ref.key(chosen, task) == best

    @invariant()
    def same_waiting_tasks(self) -> None:
        assert self.m.waiting == len(self.ref.tasks)

    @invariant()
    def same_loads(self) -> None:
        for agent_id, a in self.ref.agents.items():
            held = self.m._agents[agent_id]  # white box: what the index believes
            assert {c: n for c, n in held.load.items() if n} == {
                c: n for c, n in a.load.items() if n
            }
            assert held.total == a.total

    @invariant()
    def groups_add_up(self) -> None:
        """White box: group sizes and members match the tasks and agents indexed."""
        m = self.m
        for key, tasks in m._task_groups.items():
            assert tasks.size == sum(1 for t in m._tasks.values() if t.group is tasks), key
        for agents in m._agent_groups.values():
            assert agents.members == {a.id for a in m._agents.values() if a.group is agents}
        for t in m._tasks.values():
            assert m._task_groups[(t.channel, frozenset(t.asks.items()))] is t.group
        empty = sum(not g.size for g in m._task_groups.values())
        empty += sum(not g.members for g in m._agent_groups.values())
        assert m._empty_groups == empty

    @invariant()
    def every_decision_agrees(self) -> None:
        if not self.check_every_step:
            return
        for agent in self.ref.agents:
            assert self.m.best_task_for(agent) == self.ref.best_task_for(agent)
        for task in self.ref.tasks:
            self.check_best_agent(task, self.m.best_agent_for(task))


class LazyMatcherMachine(MatcherMachine):
    """Stale entries pile up between decisions, and every heap is rebuilt at once."""

    check_every_step = False

    def __init__(self) -> None:
        super().__init__()
        self.m._slack = 0  # white box: rebuild heaps as soon as they hold a stale entry or two
        self.m._keep_empty = 0  # and forget every group that empties

    @precondition(lambda self: len(self.ref.agents) >= 2)
    @rule(agent=st.sampled_from(AGENTS), times=st.integers(1, 20))
    def busy_agent(self, agent: str, times: int) -> None:
        """An agent's key changes over and over with nobody asking (entries pile up)."""
        a = self.ref.agents.get(agent)
        if a is None:
            return
        for _ in range(times):
            self.now += 1
            self.note_declined(agent)


SETTINGS = settings(
    max_examples=300,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestMatcherAgainstReference = MatcherMachine.TestCase
TestMatcherAgainstReference.settings = SETTINGS
TestLazyMatcherAgainstReference = LazyMatcherMachine.TestCase
TestLazyMatcherAgainstReference.settings = SETTINGS
