"""E-mail SLA: due times in business time, and escalations returned once each."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from relais.channels.email.sla import (
    DueTimes,
    Escalation,
    SlaPolicy,
    SlaState,
    Target,
    add_open_time,
    check,
    due_times,
    status,
)
from relais.routing.hours import BusinessHours

PARIS = ZoneInfo("Europe/Paris")
OFFICE = BusinessHours(
    timezone="Europe/Paris",
    weekly={d: ("09:00-18:00",) for d in ("mon", "tue", "wed", "thu", "fri")},
    holidays=(datetime(2024, 11, 11).date(),),
)
POLICY = SlaPolicy(
    targets=(
        Target(first_response_minutes=8 * 60, resolution_minutes=3 * 9 * 60),
        Target(queue="refunds", first_response_minutes=120, resolution_minutes=9 * 60),
        Target(queue="refunds", min_priority=5, first_response_minutes=30),
        Target(queue="press", first_response_minutes=60, business_hours=False),
    )
)


def paris(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2024, month, day, hour, minute, tzinfo=PARIS).astimezone(UTC)


def test_a_friday_evening_mail_is_due_after_the_weekend_and_the_holiday() -> None:
    # Friday 8 November 2024, 17:30: 30 minutes on Friday, 90 on Monday... which is the 11th,
    # a holiday: Tuesday 10:30.
    due = due_times(POLICY, "refunds", 0, paris(8, 17, 30), OFFICE)
    assert due.first_response == paris(12, 10, 30)
    assert due.resolution == paris(12, 17, 30)  # 9 open hours: 30 minutes, then 8 h 30
    assert due.business_hours


def test_a_mail_at_night_counts_from_the_opening() -> None:
    due = due_times(POLICY, "refunds", 0, paris(12, 3, 0), OFFICE)
    assert due.first_response == paris(12, 11, 0)


def test_without_hours_or_business_time_targets_are_plain_minutes() -> None:
    at = paris(8, 17, 30)
    assert due_times(POLICY, "refunds", 0, at, None).first_response == at + timedelta(hours=2)
    press = due_times(POLICY, "press", 0, at, OFFICE)
    assert press.first_response == at + timedelta(hours=1) and not press.business_hours


def test_the_most_specific_target_wins() -> None:
    assert POLICY.target_for("refunds", 9) == POLICY.targets[2]
    assert POLICY.target_for("refunds", 4) == POLICY.targets[1]
    assert POLICY.target_for("delivery", 9) == POLICY.targets[0]
    assert SlaPolicy().target_for("delivery", 0) is None
    assert due_times(SlaPolicy(), "delivery", 0, paris(8, 10), OFFICE) == DueTimes(None, None)
    urgent = due_times(POLICY, "refunds", 5, paris(12, 10), OFFICE)
    assert urgent.first_response == paris(12, 10, 30) and urgent.resolution is None


def test_a_queue_that_never_opens_has_no_due_time() -> None:
    closed = BusinessHours(timezone="Europe/Paris")
    assert due_times(POLICY, "refunds", 0, paris(8, 10), closed) == DueTimes(None, None)


def state(received: datetime, priority: int = 0, **changes: object) -> SlaState:
    base = SlaState(received, priority, due_times(POLICY, "refunds", priority, received, OFFICE))
    return replace(base, **changes)  # type: ignore[arg-type]  # fields checked by the dataclass


def apply(current: SlaState, now: datetime) -> SlaState:
    steps = check(current, now, POLICY, OFFICE)
    priority = next((s.new_priority for s in reversed(steps) if s.new_priority), current.priority)
    return replace(current, escalated=current.escalated | {s.key for s in steps}, priority=priority)


def test_warning_then_breach_each_once() -> None:
    mail = state(paris(12, 9, 0))  # first answer due 11:00, resolution 18:00
    assert check(mail, paris(12, 10, 30), POLICY, OFFICE) == []
    warn = check(mail, paris(12, 10, 36), POLICY, OFFICE)  # 96 of 120 minutes: 80%
    assert [(s.key, s.notify_supervisor, s.new_priority) for s in warn] == [
        ("first_response:at_risk", True, None)
    ]
    mail = apply(mail, paris(12, 10, 36))
    assert check(mail, paris(12, 10, 50), POLICY, OFFICE) == []  # the timer runs again
    breach = check(mail, paris(12, 11, 0), POLICY, OFFICE)
    assert [(s.key, s.new_priority) for s in breach] == [("first_response:breached", 1)]
    mail = apply(mail, paris(12, 11, 0))
    assert mail.priority == 1
    assert check(mail, paris(12, 11, 5), POLICY, OFFICE) == []
    assert status(mail, paris(12, 11, 5), POLICY, OFFICE) == {
        "first_response": "breached",
        "resolution": "on_time",
    }


def test_a_late_timer_gives_the_breach_alone_and_both_clocks_raise_once_each() -> None:
    mail = state(paris(12, 9, 0))
    steps = check(mail, paris(13, 9, 0), POLICY, OFFICE)
    assert [(s.key, s.new_priority) for s in steps] == [
        ("first_response:breached", 1),
        ("resolution:breached", 2),
    ]


def test_priority_is_raised_up_to_the_cap() -> None:
    policy = POLICY.model_copy(
        update={"escalation": Escalation(raise_priority_by=5, max_priority=3)}
    )
    mail = state(paris(12, 9, 0), priority=2)
    steps = check(mail, paris(12, 12, 0), policy, OFFICE)
    assert [s.new_priority for s in steps] == [3]
    assert (
        check(replace(mail, priority=3), paris(12, 12, 0), policy, OFFICE)[0].new_priority is None
    )


def test_an_answered_mail_escalates_nothing() -> None:
    mail = state(paris(12, 9, 0), first_response_at=paris(12, 10, 0))
    assert [s.key for s in check(mail, paris(12, 17, 0), POLICY, OFFICE)] == ["resolution:at_risk"]
    late = state(paris(12, 9, 0), first_response_at=paris(12, 12, 0), resolved_at=paris(12, 12, 0))
    assert check(late, paris(14, 9, 0), POLICY, OFFICE) == []
    assert status(late, paris(14, 9, 0), POLICY, OFFICE) == {
        "first_response": "missed",
        "resolution": "met",
    }


def test_bad_targets_are_refused() -> None:
    with pytest.raises(ValidationError):
        Target(first_response_minutes=0)
    with pytest.raises(ValidationError):
        Escalation(warn_at=1.0)
    with pytest.raises(ValidationError):
        SlaPolicy.model_validate({"targets": [{"queue": "x", "typo": 1}]})


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(2024, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
    ),
    st.integers(min_value=1, max_value=20 * 24 * 60),
)
def test_due_time_is_exactly_the_target_in_open_time(start: datetime, minutes: int) -> None:
    due = add_open_time(start, minutes * 60, OFFICE)
    assert due is not None and due > start
    assert OFFICE.open_seconds_between(start, due) == pytest.approx(minutes * 60)
    assert OFFICE.is_open(due - timedelta(seconds=1))


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(2024, 1, 1), max_value=datetime(2025, 12, 31), timezones=st.just(UTC)
    ),
    st.lists(st.integers(min_value=0, max_value=3 * 24 * 60), min_size=1, max_size=6),
    st.integers(min_value=-5, max_value=5),
)
def test_escalations_never_repeat_and_priority_only_rises(
    received: datetime, offsets: list[int], priority: int
) -> None:
    mail = state(received, priority)
    seen: set[str] = set()
    for offset in sorted(offsets):
        now = received + timedelta(minutes=offset)
        for step in check(mail, now, POLICY, OFFICE):
            assert step.key not in seen
            seen.add(step.key)
        before = mail.priority
        mail = apply(mail, now)
        assert mail.priority >= before
        assert check(mail, now, POLICY, OFFICE) == []
