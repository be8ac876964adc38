"""Contact-centre statistics from recorded transitions, computed by hand (docs/metrics.md)."""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import get_args

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relais.routing.agent_statistics import AgentsNow, agent_occupancy, agents_now
from relais.routing.domain import (
    HOLDING_STATES,
    WAITING_STATES,
    TaskCommand,
    TaskState,
    allowed,
    task_transition,
)
from relais.routing.statistics import (
    AgentStatusChange,
    QueueFigures,
    TaskTransition,
    Window,
    by_interval,
    figures_by_queue,
    queue_figures,
)

T0 = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)
DAY = Window(T0, T0 + timedelta(hours=8))


def s(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def window(start_s: float, end_s: float) -> Window:
    return Window(s(start_s), s(end_s))


Step = tuple[float, str] | tuple[float, str, str]


def task(
    task_id: str,
    *steps: Step,
    queue: str = "q",
    created: TaskState = "queued",
    channel: str = "chat",
) -> list[TaskTransition]:
    """A legal history: created in ``created`` at the first step's time, then each
    ``(seconds, command[, agent for reserve | queue for transfer])`` through the state machine."""
    at, rest = steps[0][0], steps[1:]
    records = [TaskTransition(task_id, queue, channel, None, "create", None, created, s(at))]
    state, agent = created, None
    for seconds, command, *who in rest:
        new = task_transition(state, command, task_id=task_id)  # type: ignore[arg-type]  # a test's literal
        if command == "reserve":
            agent = who[0]
        elif command == "transfer" and who:
            queue = who[0]
        if new not in HOLDING_STATES:
            agent = None
        records.append(
            TaskTransition(task_id, queue, channel, agent, command, state, new, s(seconds))
        )
        state = new
    return records


def answered(
    task_id: str, queued: float, assigned: float, agent: str = "a"
) -> list[TaskTransition]:
    return task(task_id, (queued, "create"), (assigned, "reserve", agent), (assigned, "accept"))


def abandoned(task_id: str, queued: float, gone: float) -> list[TaskTransition]:
    return task(task_id, (queued, "create"), (gone, "abandon"))


def figures(records: Iterable[TaskTransition], **kwargs: object) -> QueueFigures:
    options: dict[str, object] = {"window": DAY, "target_s": 20, "now": DAY.end, **kwargs}
    return queue_figures(records, **options)  # type: ignore[arg-type]  # keywords checked by the call


# --- queue figures -------------------------------------------------------------------------------


def test_service_level_excludes_short_abandons() -> None:
    records = [
        *answered("fast", 0, 5),
        *answered("slow", 0, 30),
        *abandoned("gone", 0, 40),
        *abandoned("short", 0, 4),  # left within 5 s: nobody could have answered
    ]
    f = figures(records)
    assert (f.offered, f.answered, f.answered_in_target) == (4, 2, 1)
    assert (f.abandoned, f.short_abandoned) == (2, 1)
    assert f.service_level == 1 / 3, "1 in target ÷ (2 answered + 1 abandoned after 5 s)"
    assert f.service_level_of_answered == 1 / 2
    assert f.service_level_of_offered == 1 / 4
    assert f.asa_s == (5 + 30) / 2
    assert f.average_abandon_wait_s == (40 + 4) / 2
    assert f.abandonment_rate == 2 / 4
    assert f.abandonment_rate_excluding_short == 1 / 3


def test_short_abandon_threshold_is_a_parameter_and_target_is_inclusive() -> None:
    records = [*answered("on the dot", 0, 20), *abandoned("gone", 0, 4)]
    assert figures(records).service_level == 1 / 1
    assert figures(records, short_abandon_s=3).service_level == 1 / 2
    assert figures(records, short_abandon_s=0).short_abandoned == 0


def test_requeued_task_is_offered_once_and_waits_from_its_first_entry() -> None:
    records = task(
        "x",
        (0, "create"),
        (2, "reserve", "a"),
        (32, "expire"),
        (33, "reserve", "b"),
        (34, "reject"),
        (35, "reserve", "c"),
        (40, "accept"),
    )
    f = figures(records)
    assert (f.offered, f.answered, f.asa_s) == (1, 1, 40)


def test_callback_scheduled_time_is_not_waiting() -> None:
    records = task(
        "cb", (0, "create"), (3600, "enqueue"), (3600, "reserve", "a"), (3610, "accept"),
        created="scheduled", channel="callback",
    )  # fmt: skip
    f = figures(records, now=s(1800))
    assert (f.asa_s, f.answered_in_target) == (10, 1)
    assert figures(records, now=s(1800)).waiting_now == 0, "booked for later, not waiting"


def test_callback_not_reached_is_not_offered_or_answered_twice() -> None:
    records = task(
        "cb", (0, "create"), (10, "reserve", "a"), (15, "accept"), (75, "retry_later"),
        (600, "enqueue"), (700, "reserve", "b"), (705, "accept"), (765, "complete"),
        (775, "end_wrap_up"), channel="callback",
    )  # fmt: skip
    f = figures(records)
    assert (f.offered, f.answered, f.asa_s) == (1, 1, 15)
    assert f.aht_s == 60 + 60 + 10, "both attempts' handling, counted once when completed"
    assert figures(records, now=s(650)).longest_wait_s == 50, "waiting again since 600"


def test_scheduled_callback_cancelled_before_its_slot_was_never_offered() -> None:
    records = task("cb", (0, "create"), (60, "cancel"), created="scheduled")
    f = figures(records)
    assert (f.offered, f.cancelled) == (0, 0)


def test_task_queued_before_the_window_counts_as_answered_where_its_wait_ends() -> None:
    records = answered("x", 890, 910)
    before, after = (
        figures(records, window=window(0, 900)),
        figures(records, window=window(900, 1800)),
    )
    assert (before.offered, before.answered) == (1, 0)
    assert (after.offered, after.answered, after.asa_s) == (0, 1, 20)


def test_figures_count_in_the_interval_where_the_wait_ends() -> None:
    records = [*answered("x", 890, 910), *abandoned("y", 100, 1000), *answered("z", 1700, 1705)]
    first, second = by_interval(records, s(0), s(1800), timedelta(minutes=15), target_s=20)
    assert (first.start, first.end, second.end) == (s(0), s(900), s(1800))
    assert (first.offered, first.answered, first.abandoned) == (2, 0, 0)
    assert (second.offered, second.answered, second.abandoned) == (1, 2, 1)
    assert (second.answered_in_target, second.service_level, second.asa_s) == (2, 2 / 3, 12.5)
    assert first.service_level is None and first.asa_s is None


def test_last_interval_stops_at_the_end() -> None:
    chart = by_interval(answered("x", 0, 5), s(0), s(1000), timedelta(minutes=15), target_s=20)
    assert [(i.start, i.end) for i in chart] == [(s(0), s(900)), (s(900), s(1000))]


def test_aht_is_talk_plus_wrap_up_of_tasks_completed_in_the_window() -> None:
    done = task(
        "done", (0, "create"), (5, "reserve", "a"), (10, "accept"), (110, "complete"),
        (130, "end_wrap_up"),
    )  # fmt: skip
    later = task(
        "later", (0, "create"), (5, "reserve", "b"), (10, "accept"), (500, "complete"),
        (2000, "end_wrap_up"),
    )  # fmt: skip
    f = figures([*done, *later], window=window(0, 1000))
    assert (f.handled, f.aht_s, f.average_talk_s, f.average_wrap_up_s) == (1, 120, 100, 20)
    assert f.answered == 2, "answered counts at the answer, handled at the end"


def test_waiting_now_counts_queued_and_reserved_tasks_and_the_longest_wait() -> None:
    records = [
        *task("queued", (100, "create")),
        *task("ringing", (50, "create"), (60, "reserve", "a")),
        *answered("answered", 0, 10),
        *answered("later", 300, 500),  # answered after now: still waiting then
        *task("back", (0, "create"), (5, "reserve", "a"), (6, "accept"), (200, "transfer")),
    ]
    f = figures(records, now=s(400))
    assert f.waiting_now == 4
    assert f.longest_wait_s == 350, "ringing since 50; the transferred one waits since 200"
    assert figures(records, now=s(40)).waiting_now == 0, "back is being handled then"


def test_transfer_to_another_queue_per_queue_and_for_all_queues() -> None:
    records = task(
        "x", (0, "create"), (30, "transfer", "sales"), (40, "reserve", "a"), (50, "accept"),
        queue="support",
    )  # fmt: skip
    per_queue = figures_by_queue(records, window=DAY, target_s=20, now=DAY.end)
    support, sales = per_queue["support"], per_queue["sales"]
    assert (support.offered, support.answered, support.transferred_out) == (1, 0, 1)
    assert support.service_level is None, "a transfer is the other queue's to answer"
    assert (sales.offered, sales.answered, sales.asa_s) == (1, 1, 20)
    every = figures(records)
    assert (every.offered, every.answered, every.transferred_out, every.asa_s) == (1, 1, 0, 50)


def test_all_queues_judge_each_answer_by_the_target_of_the_queue_that_answered() -> None:
    records = [*answered("chat", 0, 50), *task("mail", (0, "create"), queue="mail")]
    records += task("m", (0, "create"), (3000, "reserve", "a"), (3000, "accept"), queue="mail")
    f = figures(records, target_s={"q": 60, "mail": 3600})
    assert (f.answered, f.answered_in_target, f.service_level) == (2, 2, 1)
    with pytest.raises(ValueError, match="no service level target for queue 'mail'"):
        figures(records, target_s={"q": 60})


def test_a_queue_named_in_the_targets_without_tasks_has_empty_figures() -> None:
    per_queue = figures_by_queue([], window=DAY, target_s={"quiet": 20}, now=DAY.end)
    assert per_queue["quiet"].offered == 0 and per_queue["quiet"].service_level is None


def test_timed_out_counts_against_service_level_and_cancelled_does_not() -> None:
    records = [
        *answered("ok", 0, 10),
        *task("timed out", (0, "create"), (300, "time_out")),
        *task("cancelled", (0, "create"), (100, "cancel")),
    ]
    f = figures(records)
    assert (f.timed_out, f.cancelled, f.service_level) == (1, 1, 1 / 2)
    assert f.service_level_of_offered == 1 / 3


def test_records_in_any_order_and_same_instant_chains_give_the_same_figures() -> None:
    # A supervisor's transfer straight to an agent writes three records at one instant.
    records = task(
        "x", (0, "create"), (10, "reserve", "a"), (12, "accept"), (100, "transfer"),
        (100, "reserve", "b"), (100, "accept"), (160, "complete"), (170, "end_wrap_up"),
    )  # fmt: skip
    shuffled = list(reversed(records))
    assert figures(shuffled) == figures(records)
    assert figures(records).aht_s == 148 + 10
    occupancy = agent_occupancy(
        [AgentStatusChange("a", "available", s(0)), AgentStatusChange("b", "available", s(0))],
        shuffled,
        window(0, 200),
    )
    assert occupancy.agents["a"].busy_s == 90 and occupancy.agents["b"].busy_s == 70


# --- agents --------------------------------------------------------------------------------------


def test_two_chats_at_once_count_busy_once() -> None:
    statuses = [AgentStatusChange("a", "available", s(0))]
    records = [
        *task("1", (90, "create"), (100, "reserve", "a"), (101, "accept"), (200, "complete"),
              (200, "end_wrap_up")),
        *task("2", (110, "create"), (120, "reserve", "a"), (121, "accept"), (250, "complete"),
              (250, "end_wrap_up")),
    ]  # fmt: skip
    share = agent_occupancy(statuses, records, window(0, 500)).agents["a"]
    assert (share.busy_s, share.idle_s) == (150, 350), "busy 100..250 once, idle the rest"
    assert share.occupancy == 150 / 500


def test_away_and_offline_time_count_on_neither_side_but_a_chat_in_hand_is_work() -> None:
    statuses = [
        AgentStatusChange("a", "available", s(0)),
        AgentStatusChange("a", "away", s(300)),  # still finishing the chat until 350
        AgentStatusChange("a", "offline", s(400)),
        AgentStatusChange("a", "available", s(450)),
    ]
    records = task(
        "1", (90, "create"), (100, "reserve", "a"), (101, "accept"), (350, "complete"),
        (350, "end_wrap_up"),
    )  # fmt: skip
    share = agent_occupancy(statuses, records, window(0, 500)).agents["a"]
    assert (share.busy_s, share.idle_s) == (250, 100 + 50)


def test_occupancy_before_the_window_is_carried_in_and_overall_weighs_by_time() -> None:
    statuses = [
        AgentStatusChange("a", "available", s(-3600)),
        AgentStatusChange("b", "available", s(0)),
        AgentStatusChange("b", "offline", s(100)),
    ]
    records = task("1", (-100, "create"), (-60, "reserve", "a"), (-50, "accept"))  # still talking
    occupancy = agent_occupancy(statuses, records, window(0, 1000))
    assert occupancy.agents["a"].occupancy == 1
    assert occupancy.agents["b"].occupancy == 0
    assert occupancy.occupancy == 1000 / 1100, "not the mean of 1 and 0"


def test_an_agent_never_seen_logged_in_has_no_occupancy() -> None:
    assert agent_occupancy([], answered("x", 0, 5), window(0, 100)).agents["a"].occupancy is None


def test_agents_now_by_presence() -> None:
    statuses = [
        AgentStatusChange("idle", "available", s(0)),
        AgentStatusChange("talking", "available", s(0)),
        AgentStatusChange("finishing", "available", s(0)),
        AgentStatusChange("finishing", "away", s(60)),
        AgentStatusChange("lunch", "away", s(0)),
        AgentStatusChange("gone", "available", s(0)),
        AgentStatusChange("gone", "offline", s(30)),
        AgentStatusChange("later", "available", s(500)),
    ]
    records = [*answered("1", 10, 20, "talking"), *answered("2", 10, 20, "finishing")]
    assert agents_now(statuses, records, s(100)) == AgentsNow(
        available=1, busy=2, away=1, offline=2
    )


# --- inputs --------------------------------------------------------------------------------------


def test_times_without_a_zone_and_empty_windows_are_refused() -> None:
    naive = datetime(2024, 5, 6, 9, 0)  # the case under test
    with pytest.raises(ValueError, match="no time zone"):
        TaskTransition("x", "q", "chat", None, "create", None, "queued", naive)
    with pytest.raises(ValueError, match="no time zone"):
        AgentStatusChange("a", "available", naive)
    with pytest.raises(ValueError, match="unknown presence"):
        AgentStatusChange("a", "busy", T0)
    with pytest.raises(ValueError, match="ends after it starts"):
        Window(T0, T0)
    with pytest.raises(ValueError, match="positive"):
        by_interval([], T0, s(60), timedelta(0), target_s=20)
    with pytest.raises(ValueError, match="negative"):
        figures([], short_abandon_s=-1)


# --- properties ----------------------------------------------------------------------------------

QUEUES = ("support", "sales")
AGENTS = ("a", "b", "c")
COMMANDS: tuple[TaskCommand, ...] = get_args(TaskCommand)


@st.composite
def histories(draw: st.DrawFn, *, pause: int = 0) -> list[TaskTransition]:
    """Legal histories of up to 8 tasks through the state machine, over about two hours."""
    records = []
    for n in range(draw(st.integers(0, 8))):
        state: TaskState = draw(st.sampled_from(("queued", "scheduled")))
        at = s(draw(st.integers(0, 3600)))
        queue, agent = draw(st.sampled_from(QUEUES)), None
        records.append(TaskTransition(str(n), queue, "chat", None, "create", None, state, at))
        for _ in range(draw(st.integers(0, 12))):
            options = [c for c in COMMANDS if allowed(state, c)]
            if not options:
                break
            command = draw(st.sampled_from(options))
            new = task_transition(state, command)
            at += timedelta(seconds=draw(st.integers(pause, 120)))
            if command == "transfer":
                queue = draw(st.sampled_from(QUEUES))
            if command == "reserve":
                agent = draw(st.sampled_from(AGENTS))
            if new not in HOLDING_STATES:
                agent = None
            records.append(TaskTransition(str(n), queue, "chat", agent, command, state, new, at))
            state = new
    return records


statuses = st.lists(
    st.builds(
        AgentStatusChange,
        st.sampled_from(AGENTS),
        st.sampled_from(("available", "away", "offline")),
        st.integers(-600, 7200).map(s),
    ),
    max_size=12,
)
windows = st.tuples(st.integers(-600, 7200), st.integers(1, 7200)).map(
    lambda w: window(w[0], w[0] + w[1])
)


def ratios(f: QueueFigures) -> list[float | None]:
    return [
        f.service_level,
        f.service_level_of_answered,
        f.service_level_of_offered,
        f.abandonment_rate,
        f.abandonment_rate_excluding_short,
    ]


@given(histories(), windows, st.integers(-600, 7200).map(s))
def test_figures_stay_in_range_in_any_window(
    records: list[TaskTransition], w: Window, now: datetime
) -> None:
    for queue_id in (None, *QUEUES):
        f = figures(records, window=w, now=now, queue_id=queue_id)
        assert all(r is None or 0 <= r <= 1 for r in ratios(f))
        assert f.answered_in_target <= f.answered and f.short_abandoned <= f.abandoned
        assert (f.longest_wait_s is not None) == (f.waiting_now > 0)
        assert f.longest_wait_s is None or f.longest_wait_s >= 0
        assert all(x is None or x >= 0 for x in (f.asa_s, f.aht_s, f.average_abandon_wait_s))
        if queue_id is None:
            assert f.transferred_out == 0


@given(histories())
def test_every_task_offered_is_answered_ended_or_still_waiting(
    records: list[TaskTransition],
) -> None:
    last: dict[str, str] = {}
    ever_answered: set[str] = set()
    ever_queued: set[str] = set()
    for r in records:  # each task's records are in order
        last[r.task_id] = r.to_state
        ever_answered |= {r.task_id} if r.to_state == "assigned" else set()
        ever_queued |= {r.task_id} if r.to_state == "queued" else set()
    unresolved = {t for t, state in last.items() if state in WAITING_STATES} - ever_answered
    f = figures(records, window=window(-1, 8000), now=s(8000))
    assert f.offered == len(ever_queued)
    assert f.offered == f.waits_ended + len(unresolved)
    assert f.answered + f.abandoned + f.waiting_now >= f.offered - f.timed_out - f.cancelled
    assert f.waiting_now == sum(state in WAITING_STATES for state in last.values())
    per_queue = figures_by_queue(records, window=window(-1, 8000), target_s=20, now=s(8000))
    assert sum(q.offered for q in per_queue.values()) >= f.offered
    assert sum(q.answered for q in per_queue.values()) >= f.answered
    assert sum(q.waiting_now for q in per_queue.values()) == f.waiting_now


@given(histories(), windows, st.sampled_from([60, 900, 1000]))
def test_intervals_add_up_to_their_window(
    records: list[TaskTransition], w: Window, step: int
) -> None:
    chart = by_interval(records, w.start, w.end, timedelta(seconds=step), target_s=20)
    whole = figures(records, window=w, now=w.end)
    assert sum(i.offered for i in chart) == whole.offered
    assert sum(i.answered for i in chart) == whole.answered
    assert sum(i.answered_in_target for i in chart) == whole.answered_in_target
    assert sum(i.abandoned for i in chart) == whole.abandoned
    assert sum(i.short_abandoned for i in chart) == whole.short_abandoned


@given(histories(pause=1), st.randoms(use_true_random=False))
def test_order_of_the_records_does_not_matter(
    records: list[TaskTransition], rng: random.Random
) -> None:
    shuffled = rng.sample(records, len(records))
    for queue_id in (None, *QUEUES):
        assert figures(shuffled, now=s(1800), queue_id=queue_id) == figures(
            records, now=s(1800), queue_id=queue_id
        )


@given(histories(), statuses, windows)
def test_occupancy_stays_in_range(
    records: list[TaskTransition], changes: list[AgentStatusChange], w: Window
) -> None:
    occupancy = agent_occupancy(changes, records, w)
    length = (w.end - w.start).total_seconds()
    for share in occupancy.agents.values():
        assert share.occupancy is None or 0 <= share.occupancy <= 1
        assert min(share.busy_s, share.idle_s) >= 0
        assert share.busy_s + share.idle_s <= length
    assert occupancy.occupancy is None or 0 <= occupancy.occupancy <= 1
    now = agents_now(changes, records, w.start)
    assert now.available + now.busy + now.away + now.offline == len(occupancy.agents)
