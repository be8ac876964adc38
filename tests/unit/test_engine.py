"""The ACD engine against a store kept by the test: offers, lapses, overflow, wrap-up, and the
invariants under random sequences of events (never two holders, never over capacity, never a
task left waiting while an eligible agent has room)."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from relais.routing.engine import (
    AgentAway,
    AgentSnapshot,
    EndWrapUp,
    Engine,
    Enqueue,
    Expire,
    OfferCallback,
    Reserve,
    TaskSnapshot,
    TimeOut,
)
from relais.routing.queues import OverflowStep, QueueConfig, RoutingRules, queue_skill

CAPACITY = {"chat": 2, "email": 2, "callback": 1, "voice": 1}


def agent(
    agent_id: str, *, available: bool = True, version: int = 1, **skills: int
) -> AgentSnapshot:
    return AgentSnapshot(
        id=agent_id,
        version=version,
        available=available,
        skills={queue_skill("q"): 2, **{k.replace("_", ":"): v for k, v in skills.items()}},
        capacity=CAPACITY,
    )


def task(task_id: str, *, at: float = 0.0, channel: str = "chat", **asks: int) -> TaskSnapshot:
    return TaskSnapshot(
        id=task_id,
        queue_id="q",
        channel=channel,
        state="queued",
        version=1,
        queued_at=at,
        requirements={k.replace("_", ":"): v for k, v in asks.items()},
    )


class Store:
    """The truth: tasks by id. Applies the engine's effects as routing.leader does, refusing
    those made on a version it no longer has."""

    def __init__(self, engine: Engine, rules: RoutingRules) -> None:
        self.engine = engine
        self.rules = rules
        self.tasks: dict[str, TaskSnapshot] = {}
        self.away: set[str] = set()

    def put(self, snapshot: TaskSnapshot, now: float) -> None:
        self.tasks[snapshot.id] = snapshot
        self.engine.set_task(snapshot, now)

    def move(self, task_id: str, now: float, **changes: object) -> TaskSnapshot:
        old = self.tasks[task_id]
        new = replace(old, version=old.version + 1, **changes)  # type: ignore[arg-type]
        self.put(new, now)
        return new

    def step(self, now: float) -> list[object]:
        effects = self.engine.step(now)
        for effect in effects:
            if isinstance(effect, AgentAway):
                self.away.add(effect.agent_id)
                continue
            if isinstance(effect, OfferCallback):
                continue
            current = self.tasks[effect.task_id]
            if current.version != effect.version:
                fresh = self.tasks[effect.task_id]
                self.engine.set_task(fresh, now, force=True)
                continue
            if isinstance(effect, Reserve):
                state = "assigned" if effect.auto_accept else "reserved"
                bump = 2 if effect.auto_accept else 1
                self.tasks[current.id] = replace(
                    current,
                    state=state,
                    agent_id=effect.agent_id,
                    deadline=effect.deadline,
                    version=current.version + bump,
                )
            elif isinstance(effect, Expire):
                self.tasks[current.id] = replace(
                    current,
                    state="queued",
                    agent_id=None,
                    deadline=None,
                    version=current.version + 1,
                )
            elif isinstance(effect, Enqueue):
                self.tasks[current.id] = replace(
                    current, state="queued", version=current.version + 1
                )
            elif isinstance(effect, EndWrapUp):
                self.tasks[current.id] = replace(
                    current, state="completed", version=current.version + 1
                )
            elif isinstance(effect, TimeOut):
                self.tasks[current.id] = replace(
                    current, state="timed_out", version=current.version + 1
                )
        return effects


def engine_with(rules: RoutingRules | None = None) -> tuple[Engine, Store]:
    engine = Engine()
    rules = rules or RoutingRules()
    engine.set_queue(QueueConfig("q", rules))
    return engine, Store(engine, rules)


def test_french_task_is_offered_to_the_french_speaking_agent() -> None:
    engine, store = engine_with()
    engine.set_agent(agent("bruno", lang_en=3), 0)
    engine.set_agent(agent("alice", lang_fr=3, lang_en=2), 0)
    store.put(task("t1", lang_fr=1), 0)
    [offer] = store.step(0)
    assert isinstance(offer, Reserve) and offer.agent_id == "alice"
    assert offer.deadline == 30.0 and not offer.auto_accept


def test_a_lapsed_offer_goes_to_the_next_agent_and_misses_put_an_agent_away() -> None:
    engine, store = engine_with(RoutingRules(reservation_timeout_s=10, max_misses=2))
    engine.set_agent(agent("a"), 0)
    store.put(task("t1"), 0)
    [first] = store.step(0)
    assert isinstance(first, Reserve) and first.agent_id == "a"
    engine.set_agent(replace(agent("b"), capacity={"chat": 1}), 5)
    effects = store.step(10)
    assert isinstance(effects[0], Expire)
    assert isinstance(effects[1], Reserve) and effects[1].agent_id == "b", "b has waited longest"
    store.put(task("t2", at=11), 11)
    [again] = store.step(11)
    assert isinstance(again, Reserve) and again.agent_id == "a"
    effects = store.step(21)
    assert any(isinstance(e, AgentAway) and e.agent_id == "a" for e in effects)


def test_overflow_drops_the_language_after_a_minute() -> None:
    rules = RoutingRules(overflow=(OverflowStep(after_s=60, drop_skills=("lang:*",)),))
    engine, store = engine_with(rules)
    engine.set_agent(agent("bruno", lang_en=3), 0)
    store.put(task("t1", lang_fr=1), 0)
    assert store.step(59) == []
    [offer] = store.step(60)
    assert isinstance(offer, Reserve) and offer.agent_id == "bruno"


def test_overflow_teams_join_after_their_step() -> None:
    rules = RoutingRules(overflow=(OverflowStep(after_s=30, add_overflow_teams=True),))
    engine, store = engine_with(rules)
    helper = replace(agent("helper"), skills={queue_skill("q"): 1})
    engine.set_agent(helper, 0)
    store.put(task("t1"), 0)
    assert store.step(29) == []
    [offer] = store.step(30)
    assert isinstance(offer, Reserve) and offer.agent_id == "helper"


def test_last_step_times_out_and_offers_a_callback_first() -> None:
    rules = RoutingRules(
        overflow=(
            OverflowStep(after_s=60, offer_callback=True),
            OverflowStep(after_s=300, time_out=True),
        )
    )
    engine, store = engine_with(rules)
    store.put(task("t1"), 0)
    assert [type(e) for e in store.step(60)] == [OfferCallback]
    assert [type(e) for e in store.step(300)] == [TimeOut]
    assert store.tasks["t1"].state == "timed_out"
    assert "t1" not in engine.tasks


def test_a_voice_call_blocks_chats_until_its_wrap_up_ends() -> None:
    engine, store = engine_with(RoutingRules(auto_accept=True, wrap_up_s=20))
    engine.set_agent(agent("a"), 0)
    store.put(task("call", channel="voice"), 0)
    [offer] = store.step(0)
    assert isinstance(offer, Reserve) and offer.auto_accept
    store.put(task("chat", at=1), 1)
    assert store.step(1) == []
    store.move("call", 50, state="wrap_up", wrap_up_until=70.0)
    assert store.step(50) == []
    effects = store.step(70)
    assert isinstance(effects[0], EndWrapUp)
    assert isinstance(effects[1], Reserve) and effects[1].task_id == "chat"


def test_fifo_by_priority_then_age() -> None:
    engine, store = engine_with()
    store.put(task("old", at=0), 0)
    store.put(replace(task("urgent", at=5), priority=5), 5)
    store.put(task("new", at=6), 6)
    engine.set_agent(replace(agent("a"), capacity={"chat": 1}), 10)
    [offer] = store.step(10)
    assert isinstance(offer, Reserve) and offer.task_id == "urgent"


def test_a_stale_decision_is_refused_and_the_store_wins() -> None:
    engine, store = engine_with()
    store.put(task("t1"), 0)
    # The visitor leaves while the engine decides: the store has moved on.
    store.tasks["t1"] = replace(store.tasks["t1"], state="abandoned", version=2)
    engine.set_agent(agent("a"), 1)
    [offer] = store.step(1)
    assert isinstance(offer, Reserve)
    assert store.tasks["t1"].state == "abandoned"
    assert "t1" not in engine.tasks, "re-read from the store after the refused write"


def test_a_late_or_repeated_snapshot_changes_nothing() -> None:
    engine, store = engine_with()
    engine.set_agent(agent("a"), 0)
    first = task("t1")
    store.put(first, 0)
    store.step(0)
    engine.set_task(first, 1)  # the creation event, delivered again
    assert engine.tasks["t1"].state == "reserved"
    assert store.step(1) == []


def test_scheduled_task_enters_the_queue_when_its_slot_opens() -> None:
    engine, store = engine_with()
    engine.set_agent(agent("a"), 0)
    store.put(replace(task("cb", channel="callback"), state="scheduled", not_before=100.0), 0)
    assert store.step(99) == []
    effects = store.step(100)
    assert isinstance(effects[0], Enqueue)
    assert isinstance(effects[1], Reserve) and effects[1].agent_id == "a"


# -- random sequences -------------------------------------------------------------------------

AGENTS = ["a1", "a2", "a3"]
SKILLS = st.sampled_from([{}, {"lang:fr": 1}, {"lang:en": 2}, {"product:tv": 3}])
AGENT_SKILLS = {
    "a1": {"lang:fr": 3, "lang:en": 1},
    "a2": {"lang:en": 3, "product:tv": 4},
    "a3": {"product:tv": 2, "lang:fr": 1},
}


class EngineMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        rules = RoutingRules(reservation_timeout_s=15, wrap_up_s=5, max_misses=100)
        self.engine, self.store = engine_with(rules)
        self.now = 0.0
        self.count = 0
        self.available = dict.fromkeys(AGENTS, False)
        self.versions = dict.fromkeys(AGENTS, 0)

    def _agent(self, agent_id: str) -> AgentSnapshot:
        self.versions[agent_id] += 1
        return AgentSnapshot(
            id=agent_id,
            version=self.versions[agent_id],
            available=self.available[agent_id],
            skills={queue_skill("q"): 2, **AGENT_SKILLS[agent_id]},
            capacity=CAPACITY,
        )

    @rule(channel=st.sampled_from(["chat", "chat", "email", "voice"]), asks=SKILLS)
    def arrive(self, channel: str, asks: dict[str, int]) -> None:
        self.count += 1
        snapshot = replace(task(f"t{self.count}", at=self.now, channel=channel), requirements=asks)
        self.store.put(snapshot, self.now)

    @rule(agent_id=st.sampled_from(AGENTS), available=st.booleans())
    def presence(self, agent_id: str, available: bool) -> None:
        self.available[agent_id] = available
        self.engine.set_agent(self._agent(agent_id), self.now)

    @rule(data=st.data())
    def agent_answers(self, data: st.DataObject) -> None:
        offers = [t for t in self.store.tasks.values() if t.state == "reserved"]
        if not offers:
            return
        offer = data.draw(st.sampled_from(sorted(offers, key=lambda t: t.id)))
        if data.draw(st.booleans()):
            self.store.move(offer.id, self.now, state="assigned", deadline=None)
        else:
            self.store.move(offer.id, self.now, state="queued", agent_id=None, deadline=None)

    @rule(data=st.data())
    def finish(self, data: st.DataObject) -> None:
        busy = [t for t in self.store.tasks.values() if t.state == "assigned"]
        if busy:
            done = data.draw(st.sampled_from(sorted(busy, key=lambda t: t.id)))
            self.store.move(done.id, self.now, state="wrap_up", wrap_up_until=self.now + 5)

    @rule(data=st.data())
    def customer_leaves(self, data: st.DataObject) -> None:
        waiting = [t for t in self.store.tasks.values() if t.state in ("queued", "reserved")]
        if waiting:
            gone = data.draw(st.sampled_from(sorted(waiting, key=lambda t: t.id)))
            self.store.move(gone.id, self.now, state="abandoned", agent_id=None)

    @rule(seconds=st.sampled_from([0.0, 1.0, 5.0, 16.0]))
    def time_passes(self, seconds: float) -> None:
        self.now += seconds
        self.store.step(self.now)

    @invariant()
    def no_agent_over_capacity_and_voice_alone(self) -> None:
        held: dict[str, list[str]] = {}
        for t in self.store.tasks.values():
            if t.state in ("reserved", "assigned", "wrap_up"):
                assert t.agent_id is not None
                held.setdefault(t.agent_id, []).append(t.channel)
        for channels in held.values():
            for channel in set(channels):
                assert channels.count(channel) <= CAPACITY[channel]
            if "voice" in channels:
                assert channels == ["voice"]

    @invariant()
    def the_engine_agrees_with_the_store_once_settled(self) -> None:
        self.store.step(self.now)
        for t in self.store.tasks.values():
            live = t.state not in ("completed", "cancelled", "abandoned", "timed_out")
            assert (t.id in self.engine.tasks) == live, t
            if live:
                assert self.engine.tasks[t.id].state == t.state, t

    @invariant()
    def nobody_waits_while_an_eligible_agent_has_room(self) -> None:
        self.store.step(self.now)
        held: dict[str, list[str]] = {a: [] for a in AGENTS}
        for t in self.store.tasks.values():
            if t.state in ("reserved", "assigned", "wrap_up") and t.agent_id:
                held[t.agent_id].append(t.channel)
        for t in self.store.tasks.values():
            if t.state != "queued":
                continue
            for a in AGENTS:
                skills = AGENT_SKILLS[a]
                room = (
                    not held[a]
                    if t.channel == "voice"
                    else "voice" not in held[a] and held[a].count(t.channel) < CAPACITY[t.channel]
                )
                eligible = all(skills.get(k, 0) >= v for k, v in t.requirements.items())
                assert not (self.available[a] and room and eligible), (t, a, held[a])


TestEngineMachine = EngineMachine.TestCase
TestEngineMachine.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)


def test_positions_and_estimated_wait_follow_the_queue_and_its_handling_time() -> None:
    engine, store = engine_with()
    store.put(task("first", at=0), 0)
    store.put(task("second", at=1), 1)
    assert engine.positions() == {"first": (1, None), "second": (2, None)}, "no history yet"
    busy = replace(agent("a"), capacity={"chat": 0})  # logged in, no room: serves, takes none
    engine.set_agent(busy, 2)
    engine.set_agent(replace(busy, id="b"), 2)
    for seconds in (100.0, 140.0):
        engine.note_handled("q", seconds)
    aht = 100.0 + (140.0 - 100.0) / 20
    assert engine.positions() == {"first": (1, aht / 2), "second": (2, aht)}


def test_a_rejected_offer_tries_the_other_agents_before_coming_back() -> None:
    engine, store = engine_with()
    engine.set_agent(agent("a"), 0)
    engine.set_agent(agent("b"), 1)
    store.put(task("t1"), 2)
    [offer] = store.step(2)
    assert isinstance(offer, Reserve) and offer.agent_id == "a", "a has waited longest"
    engine.note_miss("a", "q", 3)
    store.move("t1", 3, state="queued", agent_id=None, deadline=None)
    [again] = store.step(3)
    assert isinstance(again, Reserve) and again.agent_id == "b"
