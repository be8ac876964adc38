"""Business hours of a queue: local evaluation, DST, holidays, exceptions, slots."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from pydantic import ValidationError

from relais.routing.hours import HORIZON, WEEKDAYS, BusinessHours

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
OFFICE = {day: ("09:00-12:00", "13:00-18:00") for day in ("mon", "tue", "wed", "thu", "fri")}


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def paris(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, *, fold: int = 0
) -> datetime:
    """A wall-clock time in Paris, as UTC; ``fold=1`` for the second of a repeated time."""
    return datetime(year, month, day, hour, minute, tzinfo=PARIS, fold=fold).astimezone(UTC)


# --- the model -------------------------------------------------------------------------------


def test_weekly_ranges_are_evaluated_in_the_queues_local_time() -> None:
    hours = BusinessHours(timezone="Europe/Paris", weekly=OFFICE)
    # Winter: Paris is UTC+1.
    assert not hours.is_open(utc(2024, 1, 15, 7, 59))
    assert hours.is_open(utc(2024, 1, 15, 8, 0))
    assert not hours.is_open(utc(2024, 1, 15, 11, 30))  # lunch
    assert hours.is_open(utc(2024, 1, 15, 16, 59))
    assert not hours.is_open(utc(2024, 1, 15, 17, 0))
    # Summer: UTC+2.
    assert hours.is_open(utc(2024, 7, 15, 7, 0))
    assert not hours.is_open(utc(2024, 7, 15, 6, 59))
    # Saturday.
    assert not hours.is_open(utc(2024, 1, 13, 10, 0))


def test_a_queue_in_new_york_seen_from_utc() -> None:
    weekdays = dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), ("09:00-17:00",))
    hours = BusinessHours(timezone="America/New_York", weekly=weekdays)
    assert hours.is_open(utc(2024, 1, 15, 14, 0))  # 09:00 EST
    assert not hours.is_open(utc(2024, 1, 15, 13, 59))
    assert hours.is_open(utc(2024, 7, 15, 13, 0))  # 09:00 EDT
    assert not hours.is_open(utc(2024, 7, 15, 21, 0))  # 17:00 EDT
    # Friday 17:30 EST is Saturday in UTC; it opens again Monday 09:00 EST.
    assert hours.next_open(utc(2024, 1, 19, 22, 30)) == utc(2024, 1, 22, 14, 0)
    # The Monday after the clocks went forward (Sunday 10 March 2024) opens at 13:00 UTC.
    assert hours.next_open(utc(2024, 3, 9, 0, 0)) == utc(2024, 3, 11, 13, 0)
    assert hours.next_close(utc(2024, 3, 11, 15, 0)) == utc(2024, 3, 11, 21, 0)


def test_a_start_inside_the_skipped_hour_opens_when_the_clock_jumps_past_it() -> None:
    # Paris, Sunday 31 March 2024: 02:00 CET becomes 03:00 CEST (01:00 UTC); 02:30 never shows.
    hours = BusinessHours(timezone="Europe/Paris", weekly={"sun": ("02:30-04:00",)})
    saturday = utc(2024, 3, 30, 12, 0)
    assert hours.next_open(saturday) == utc(2024, 3, 31, 1, 0)  # 03:00 CEST
    assert not hours.is_open(paris(2024, 3, 31, 1, 59))
    assert hours.is_open(utc(2024, 3, 31, 1, 0))
    assert hours.next_close(utc(2024, 3, 31, 1, 0)) == paris(2024, 3, 31, 4, 0)
    assert hours.open_seconds_between(saturday, utc(2024, 4, 1)) == 3600


def test_a_range_inside_the_skipped_hour_is_empty_that_day() -> None:
    hours = BusinessHours(timezone="Europe/Paris", weekly={"sun": ("02:00-02:45",)})
    assert hours.next_open(utc(2024, 3, 30, 12, 0)) == paris(2024, 4, 7, 2, 0)
    assert hours.slots(utc(2024, 3, 30), utc(2024, 4, 1), 15) == []


def test_a_time_that_shows_twice_is_its_first_occurrence_and_the_range_has_no_gap() -> None:
    # Paris, Sunday 27 October 2024: 03:00 CEST becomes 02:00 CET (01:00 UTC); 02:30 shows twice.
    hours = BusinessHours(timezone="Europe/Paris", weekly={"sun": ("02:30-04:00",)})
    first_half_past_two = utc(2024, 10, 27, 0, 30)  # 02:30 CEST
    assert hours.next_open(utc(2024, 10, 26, 12, 0)) == first_half_past_two
    assert hours.is_open(paris(2024, 10, 27, 2, 10, fold=1))  # 02:10 CET, the second time round
    assert hours.next_close(first_half_past_two) == paris(2024, 10, 27, 4, 0)
    # 02:30 CEST to 04:00 CET is two and a half hours of real time.
    assert hours.open_seconds_between(utc(2024, 10, 26), utc(2024, 10, 28)) == 2.5 * 3600
    slots = hours.slots(utc(2024, 10, 26), utc(2024, 10, 28))
    assert len(slots) == 5
    assert slots[0] == (first_half_past_two, utc(2024, 10, 27, 1, 0))


def test_a_range_ending_in_the_repeated_hour_closes_the_first_time_the_clock_shows_its_end() -> (
    None
):
    hours = BusinessHours(timezone="Europe/Paris", weekly={"sun": ("00:00-02:30",)})
    assert hours.next_close(paris(2024, 10, 27, 1, 0)) == paris(2024, 10, 27, 2, 30, fold=0)
    assert not hours.is_open(paris(2024, 10, 27, 2, 10, fold=1))


def test_a_holiday_closes_the_whole_day() -> None:
    hours = BusinessHours(timezone="Europe/Paris", weekly=OFFICE, holidays=(date(2024, 12, 25),))
    assert not hours.is_open(paris(2024, 12, 25, 10, 0))
    assert hours.is_open(paris(2024, 12, 24, 10, 0))
    assert hours.next_open(paris(2024, 12, 24, 19, 0)) == paris(2024, 12, 26, 9, 0)


def test_an_exception_replaces_the_weekly_ranges_of_its_day() -> None:
    hours = BusinessHours(
        timezone="Europe/Paris",
        weekly=OFFICE,
        exceptions={
            date(2024, 12, 22): ("10:00-16:00",),  # the Sunday before Christmas
            date(2024, 12, 31): ("09:00-12:00",),  # New Year's Eve: mornings only
            date(2024, 12, 27): (),  # closed, like a holiday
        },
    )
    assert hours.is_open(paris(2024, 12, 22, 12, 0))
    assert not hours.is_open(paris(2024, 12, 15, 12, 0))  # an ordinary Sunday
    assert not hours.is_open(paris(2024, 12, 31, 14, 0))
    assert hours.next_close(paris(2024, 12, 31, 10, 0)) == paris(2024, 12, 31, 12, 0)
    assert not hours.is_open(paris(2024, 12, 27, 10, 0))


def test_ranges_ending_at_midnight_join_the_next_day_into_one_period() -> None:
    hours = BusinessHours(
        timezone="Europe/Paris", weekly={"fri": ("20:00-24:00",), "sat": ("00:00-02:00",)}
    )
    assert hours.is_open(paris(2024, 1, 19, 23, 59))
    assert hours.is_open(paris(2024, 1, 20, 0, 0))
    assert hours.next_close(paris(2024, 1, 19, 21, 0)) == paris(2024, 1, 20, 2, 0)
    assert hours.open_seconds_between(paris(2024, 1, 19), paris(2024, 1, 21)) == 6 * 3600


def test_always_open_never_closes() -> None:
    hours = BusinessHours.always_open("America/New_York")
    at = utc(2024, 3, 10, 7, 0)  # the clocks change at 07:00 UTC
    assert hours.is_open(at)
    assert hours.next_open(at) == at
    assert hours.next_close(at) is None
    assert hours.open_seconds_between(at, at + timedelta(days=3)) == 3 * 86400


def test_a_queue_with_no_hours_never_opens() -> None:
    hours = BusinessHours(timezone="UTC")
    at = utc(2024, 1, 1)
    assert not hours.is_open(at)
    assert hours.next_open(at) is None
    assert hours.next_close(at) == at
    assert hours.slots(at, at + timedelta(days=7)) == []


def test_an_opening_more_than_a_year_away_is_not_found() -> None:
    hours = BusinessHours(timezone="UTC", exceptions={date(2026, 6, 1): ("09:00-10:00",)})
    assert hours.next_open(utc(2024, 1, 1)) is None
    assert hours.next_open(utc(2025, 7, 1)) == utc(2026, 6, 1, 9, 0)


def test_slots_are_whole_and_follow_each_ranges_grid() -> None:
    hours = BusinessHours(timezone="Europe/Paris", weekly={"mon": ("09:00-10:45", "14:15-15:15")})
    monday = paris(2024, 1, 15, 0, 0)
    assert hours.slots(monday, monday + timedelta(days=1)) == [
        (paris(2024, 1, 15, 9, 0), paris(2024, 1, 15, 9, 30)),
        (paris(2024, 1, 15, 9, 30), paris(2024, 1, 15, 10, 0)),
        (paris(2024, 1, 15, 10, 0), paris(2024, 1, 15, 10, 30)),
        (paris(2024, 1, 15, 14, 15), paris(2024, 1, 15, 14, 45)),
        (paris(2024, 1, 15, 14, 45), paris(2024, 1, 15, 15, 15)),
    ]
    # Asked at 09:10, the next slot is 09:30; a slot must end by the end of the window.
    assert hours.slots(paris(2024, 1, 15, 9, 10), paris(2024, 1, 15, 14, 50))[0][0] == paris(
        2024, 1, 15, 9, 30
    )
    assert hours.slots(paris(2024, 1, 15, 9, 10), paris(2024, 1, 15, 14, 50))[-1] == (
        paris(2024, 1, 15, 14, 15),
        paris(2024, 1, 15, 14, 45),
    )
    with pytest.raises(ValueError, match="minute"):
        hours.slots(monday, monday, 0)


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        BusinessHours.always_open().is_open(datetime(2024, 1, 1))


@pytest.mark.parametrize(
    "weekly",
    [
        {"mon": ("9:00-12:00",)},
        {"mon": ("09:00-12:00 ",)},
        {"mon": ("12:00-09:00",)},
        {"mon": ("09:00-09:00",)},
        {"mon": ("00:00-24:30",)},
        {"mon": ("24:00-24:00",)},
        {"mon": ("09:60-10:00",)},
        {"mon": ("09:00-12:00", "11:00-13:00")},
        {"mon": ("09:00-12:00", "09:00-12:00")},
        {"monday": ("09:00-12:00",)},
    ],
)
def test_malformed_or_overlapping_ranges_are_refused(weekly: dict[str, tuple[str, ...]]) -> None:
    with pytest.raises(ValidationError):
        BusinessHours.model_validate({"timezone": "UTC", "weekly": weekly})


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "localtime", "", "../etc/passwd", "Europe"])
def test_an_unknown_time_zone_is_refused(zone: str) -> None:
    with pytest.raises(ValidationError, match="IANA"):
        BusinessHours(timezone=zone)


def test_a_day_cannot_be_both_a_holiday_and_an_exception() -> None:
    with pytest.raises(ValidationError, match="2024-12-24"):
        BusinessHours(
            timezone="UTC",
            holidays=(date(2024, 12, 24),),
            exceptions={date(2024, 12, 24): ("09:00-12:00",)},
        )


def test_the_model_is_strict_frozen_and_round_trips_through_json() -> None:
    with pytest.raises(ValidationError):
        BusinessHours.model_validate({"timezone": "UTC", "weekly": {}, "open": True})
    hours = BusinessHours.model_validate(
        {
            "timezone": "Europe/Paris",
            "weekly": {"mon": ["13:00-18:00", "09:00-12:00", "18:00-24:00"]},
            "holidays": ["2024-12-25"],
            "exceptions": {"2024-12-22": ["10:00-16:00"]},
        }
    )
    assert hours.weekly["mon"] == ("09:00-12:00", "13:00-18:00", "18:00-24:00")
    with pytest.raises(ValidationError):
        hours.timezone = "UTC"  # type: ignore[misc]  # frozen, which is what is tested
    assert BusinessHours.model_validate_json(hours.model_dump_json()) == hours


# --- properties ------------------------------------------------------------------------------

ZONES = st.sampled_from(
    [
        "UTC",
        "Asia/Kolkata",  # +05:30, no DST
        "Europe/Paris",
        "America/New_York",
        "Australia/Lord_Howe",  # DST of 30 minutes
        "America/Santiago",  # clocks change at midnight
        "Pacific/Apia",  # skipped 30 December 2011 entirely
    ]
)
BOUNDARY = st.integers(min_value=0, max_value=96).map(lambda q: q * 15)


@st.composite
def ranges(draw: st.DrawFn) -> tuple[str, ...]:
    cuts = sorted(draw(st.sets(BOUNDARY, max_size=6)))
    cuts = cuts[: len(cuts) // 2 * 2]
    return tuple(
        f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"
        for start, end in zip(cuts[::2], cuts[1::2], strict=True)
    )


DAYS = st.dates(min_value=date(2011, 12, 1), max_value=date(2026, 12, 31))


@st.composite
def business_hours(draw: st.DrawFn) -> BusinessHours:
    exceptions = draw(st.dictionaries(DAYS, ranges(), max_size=4))
    holidays = draw(st.lists(DAYS.filter(lambda d: d not in exceptions), max_size=4))
    return BusinessHours(
        timezone=draw(ZONES),
        weekly=draw(st.dictionaries(st.sampled_from(WEEKDAYS), ranges())),
        holidays=tuple(holidays),
        exceptions=exceptions,
    )


# Roughly when the sampled zones change their clocks: instants are drawn around them too.
CLOCK_CHANGES = [
    utc(2024, 3, 31, 1),  # Paris forward
    utc(2024, 10, 27, 1),  # Paris back
    utc(2024, 3, 10, 7),  # New York forward
    utc(2024, 11, 3, 6),  # New York back
    utc(2024, 4, 6, 15),  # Lord Howe back half an hour
    utc(2024, 10, 5, 15, 30),  # Lord Howe forward half an hour
    utc(2024, 4, 7, 3),  # Santiago back at midnight
    utc(2024, 9, 8, 4),  # Santiago forward at midnight
    utc(2011, 12, 30, 10),  # Apia skips a day
]
INSTANTS = st.one_of(
    st.datetimes(
        min_value=datetime(2011, 12, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
    ),
    st.builds(
        lambda change, seconds: change + timedelta(seconds=seconds),
        st.sampled_from(CLOCK_CHANGES),
        st.integers(-2 * 86400, 2 * 86400),
    ),
)
FRACTIONS = st.floats(min_value=0, max_value=1, exclude_max=True)


@given(business_hours(), INSTANTS, FRACTIONS)
def test_next_open_is_open_and_nothing_before_it_is(
    hours: BusinessHours, at: datetime, fraction: float
) -> None:
    opens = hours.next_open(at)
    if opens is None:
        assert not hours.is_open(at)
        assert not hours.is_open(at + HORIZON * fraction)
        return
    assert opens >= at
    assert hours.is_open(opens)
    between = at + (opens - at) * fraction
    if between < opens:
        assert not hours.is_open(between)


@given(business_hours(), INSTANTS, FRACTIONS)
def test_next_close_ends_the_open_period(
    hours: BusinessHours, at: datetime, fraction: float
) -> None:
    closes = hours.next_close(at)
    if not hours.is_open(at):
        assert closes == at
        return
    if closes is None:
        assert hours.is_open(at + HORIZON * fraction)
        return
    assert closes > at
    assert not hours.is_open(closes)
    between = at + (closes - at) * fraction
    if between < closes:
        assert hours.is_open(between)


@given(business_hours(), INSTANTS, st.integers(0, 3 * 86400), st.sampled_from([15, 30, 45, 60]))
def test_slots_lie_inside_open_periods_and_do_not_overlap(
    hours: BusinessHours, start: datetime, seconds: int, minutes: int
) -> None:
    end = start + timedelta(seconds=seconds)
    slots = hours.slots(start, end, minutes)
    for slot_start, slot_end in slots:
        assert start <= slot_start
        assert slot_end <= end
        assert slot_end - slot_start == timedelta(minutes=minutes)
        assert hours.is_open(slot_start)
        closes = hours.next_close(slot_start)
        assert closes is None or slot_end <= closes
    for (_, earlier_end), (later_start, _) in pairwise(slots):
        assert earlier_end <= later_start


@given(business_hours(), INSTANTS, st.integers(0, 86400), st.integers(0, 2 * 86400))
def test_slots_are_the_same_whenever_they_are_asked_for(
    hours: BusinessHours, early: datetime, later_by: int, window: int
) -> None:
    later = early + timedelta(seconds=later_by)
    end = later + timedelta(seconds=window)
    assert hours.slots(later, end) == [s for s in hours.slots(early, end) if s[0] >= later]


@given(business_hours(), INSTANTS, st.integers(0, 5 * 86400), st.integers(0, 5 * 86400))
def test_open_time_adds_up(hours: BusinessHours, a: datetime, ab: int, bc: int) -> None:
    b = a + timedelta(seconds=ab)
    c = b + timedelta(seconds=bc)
    whole = hours.open_seconds_between(a, c)
    parts = hours.open_seconds_between(a, b) + hours.open_seconds_between(b, c)
    assert parts == pytest.approx(whole, abs=1e-6)
    assert 0 <= whole <= (c - a).total_seconds()
    assert hours.open_seconds_between(c, a) == 0


@given(business_hours(), INSTANTS)
def test_is_open_agrees_with_the_wall_clock_away_from_clock_changes(
    hours: BusinessHours, at: datetime
) -> None:
    zone = ZoneInfo(hours.timezone)
    offsets = {(at + timedelta(hours=h)).astimezone(zone).utcoffset() for h in range(-50, 51)}
    assume(len(offsets) == 1)
    local = at.astimezone(zone)
    minute = local.hour * 60 + local.minute + (local.second + local.microsecond / 1e6) / 60
    expected = any(s <= minute < e for s, e in hours.ranges_on(local.date()))
    assert hours.is_open(at) == expected
