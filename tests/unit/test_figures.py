"""The wallboard's figures from recorded transitions, computed by hand."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from relais.supervision.figures import (
    StatusChange,
    Transition,
    by_interval,
    histories,
    occupancy,
    queue_figures,
)


def t(task: str, state: str, at: float, agent: str | None = None, command: str = "") -> Transition:
    return Transition(task, "q", agent, command or state, state, at)


def test_service_level_asa_and_abandonment_as_the_trade_defines_them() -> None:
    records = [
        t("fast", "queued", 0), t("fast", "reserved", 1, "a"), t("fast", "assigned", 5, "a"),
        t("slow", "queued", 0), t("slow", "reserved", 25, "a"), t("slow", "assigned", 30, "a"),
        t("gone", "queued", 0), t("gone", "abandoned", 40),
        t("short", "queued", 0), t("short", "abandoned", 2),  # hung up at once: not counted
        t("fast", "wrap_up", 105, "a"), t("fast", "completed", 125, "a"),
    ]  # fmt: skip
    f = queue_figures(histories(records).values(), 0, 200, target_s=20)
    assert (f.offered, f.answered, f.abandoned, f.short_abandoned) == (4, 2, 2, 1)
    assert f.answered_in_target == 1
    assert f.service_level == 1 / 3, "in target ÷ (answered + abandoned after 5 s)"
    assert f.asa_s == (5 + 30) / 2
    assert f.aht_s == 120, "from the answer to the end of wrap-up"
    assert f.abandonment_rate == 2 / 4


def test_a_requeued_task_is_offered_once_and_waits_from_its_first_entry() -> None:
    records = [
        t("x", "queued", 0), t("x", "reserved", 2, "a"), t("x", "queued", 32, command="expire"),
        t("x", "reserved", 33, "b"), t("x", "assigned", 35, "b"),
    ]  # fmt: skip
    f = queue_figures(histories(records).values(), 0, 100, target_s=20)
    assert f.offered == 1 and f.answered == 1 and f.asa_s == 35


def test_a_callbacks_scheduled_time_is_not_waiting() -> None:
    records = [
        t("cb", "scheduled", 0),
        t("cb", "queued", 3600, command="enqueue"),
        t("cb", "assigned", 3610, "a"),
    ]
    f = queue_figures(histories(records).values(), 0, 7200, target_s=20)
    assert f.asa_s == 10 and f.answered_in_target == 1


def test_figures_count_in_the_interval_where_the_wait_ends() -> None:
    records = [t("x", "queued", 890), t("x", "assigned", 910, "a")]
    [(_, first), (_, second)] = by_interval(
        list(histories(records).values()), 0, 1800, 900, target_s=20
    )
    assert (first.offered, first.answered) == (1, 0)
    assert (second.offered, second.answered) == (0, 1)


def test_two_chats_at_once_count_busy_once_and_away_time_not_at_all() -> None:
    statuses = [
        StatusChange("a", "available", 0),
        StatusChange("a", "away", 300),
        StatusChange("a", "available", 400),
    ]
    records = [
        t("1", "reserved", 100, "a"), t("1", "assigned", 101, "a"),
        t("2", "reserved", 120, "a"), t("2", "assigned", 121, "a"),
        t("1", "completed", 200, "a"), t("2", "completed", 250, "a"),
    ]  # fmt: skip
    share = occupancy(statuses, records, 0, 500)["a"]
    # Busy 100..250 = 150 s; idle available 0..100, 250..300, 400..500 = 250 s.
    assert share == 150 / 400


@given(st.lists(st.tuples(st.integers(0, 5), st.sampled_from(["answer", "abandon"]),
                          st.floats(0, 100), st.floats(0, 100)), max_size=30))  # fmt: skip
def test_figures_stay_in_range(events: list[tuple[int, str, float, float]]) -> None:
    records = []
    for i, (_, outcome, start, wait) in enumerate(events):
        records.append(t(str(i), "queued", start))
        state = "assigned" if outcome == "answer" else "abandoned"
        records.append(t(str(i), state, start + wait, "a"))
    f = queue_figures(histories(records).values(), 0, 1000, target_s=20)
    assert f.answered + f.abandoned <= f.offered
    assert f.service_level is None or 0 <= f.service_level <= 1
    assert f.abandonment_rate is None or 0 <= f.abandonment_rate <= 1
