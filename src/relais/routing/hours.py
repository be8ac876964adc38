"""Business hours of a queue: open or not, next opening and closing, bookable slots, open time.

Pure: no framework, no database; the only thing read is the time-zone database (``zoneinfo``).
Stored as JSON on the queue row and edited by admins, hence the strict model.

Times of day are wall-clock times in the queue's time zone; instants in and out are aware
datetimes, returned in UTC. Each opening range becomes one span of real time: it opens the
first time the wall clock shows its start and closes the first time it shows its end.
So on the days the clocks change (Europe/Paris, last Sundays of March and October):

- clocks go forward 02:00 -> 03:00: a range starting at 02:30 (a time that does not exist)
  opens at 03:00 CEST, the moment the clock passes 02:30; a range 02:00-02:45 is empty;
- clocks go back 03:00 -> 02:00: a 02:30 start or end is the first 02:30 (CEST); a range
  across the repeated hour (01:00-04:00) lasts an hour longer in real time, without a gap.

``24:00`` as an end is the next day's midnight. A holiday closes the whole day; an exception
replaces the weekly ranges of its date (an empty list closes it, like a holiday).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from typing import Annotated, Literal, Self, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = get_args(Weekday)  # in date.weekday() order
# How far next_open and next_close look before answering None.
HORIZON = timedelta(days=366)

Span = tuple[datetime, datetime]

_RANGE = re.compile(r"(\d\d):(\d\d)-(\d\d):(\d\d)")
_DAY = 24 * 60
# Names zoneinfo loads that are not IANA zones of a place: the host's own setting, a placeholder.
_NOT_ZONES = frozenset({"localtime", "Factory", "posixrules"})


@lru_cache(maxsize=1024)
def _parse_range(text: str) -> tuple[int, int]:
    """``"HH:MM-HH:MM"`` as minutes since midnight, ``(start, end)``; 24:00 only as an end."""
    match = _RANGE.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a range like '09:00-12:30'")
    sh, sm, eh, em = (int(g) for g in match.groups())
    if sh > 23 or sm > 59 or em > 59 or eh > 24 or (eh == 24 and em != 0):
        raise ValueError(f"{text!r} has a time that is not between 00:00 and 24:00")
    start, end = sh * 60 + sm, eh * 60 + em
    if start >= end:
        raise ValueError(f"{text!r} does not end after it starts")
    return start, end


def _check_ranges(ranges: tuple[str, ...]) -> tuple[str, ...]:
    """Well-formed, non-overlapping ranges (touching is fine), stored in order."""
    ordered = sorted(ranges, key=_parse_range)
    for before, after in pairwise(ordered):
        if _parse_range(after)[0] < _parse_range(before)[1]:
            raise ValueError(f"{before!r} and {after!r} overlap")
    return tuple(ordered)


Ranges = Annotated[tuple[str, ...], AfterValidator(_check_ranges)]


class BusinessHours(BaseModel):
    """When a queue is open, in its own time zone."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str
    weekly: dict[Weekday, Ranges] = Field(default_factory=dict)  # a missing day is closed
    holidays: tuple[date, ...] = ()
    exceptions: dict[date, Ranges] = Field(default_factory=dict)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, key: str) -> str:
        if key in _NOT_ZONES or key.startswith(("posix/", "right/")):
            raise ValueError(f"{key!r} is not an IANA time zone such as 'Europe/Paris'")
        try:
            ZoneInfo(key)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError(f"{key!r} is not an IANA time zone such as 'Europe/Paris'") from None
        return key

    @model_validator(mode="after")
    def _holiday_or_exception(self) -> Self:
        both = sorted(set(self.holidays) & self.exceptions.keys())
        if both:
            days = ", ".join(d.isoformat() for d in both)
            raise ValueError(f"{days}: both a holiday and an exception; keep one")
        return self

    @classmethod
    def always_open(cls, timezone: str = "UTC") -> BusinessHours:
        return cls(timezone=timezone, weekly=dict.fromkeys(WEEKDAYS, ("00:00-24:00",)))

    def is_open(self, at: datetime) -> bool:
        at = _utc(at)
        for start, end in self._periods(at, at):
            if start > at:
                return False
            if at < end:
                return True
        return False

    def next_open(self, at: datetime) -> datetime | None:
        """The start of the next open period, ``at`` itself if open; None if not within HORIZON."""
        at = _utc(at)
        for start, end in self._periods(at, at + HORIZON):
            if end > at:
                return max(start, at) if start <= at + HORIZON else None
        return None

    def next_close(self, at: datetime) -> datetime | None:
        """The end of the open period around ``at``, ``at`` itself if closed; None if it stays
        open for HORIZON (always open)."""
        at = _utc(at)
        for start, end in self._periods(at, at + HORIZON):
            if end > at:
                if start > at:
                    return at
                return end if end <= at + HORIZON else None
        return at

    def slots(
        self, start: datetime, end: datetime, minutes: int = 30
    ) -> list[tuple[datetime, datetime]]:
        """Whole slots of ``minutes`` inside opening ranges, within ``[start, end]``, in order.

        Each opening range has its own grid from its start (09:00, 09:30, ...), so a slot is the
        same whenever it is asked for; a range 09:00-10:45 gives 09:00, 09:30 and 10:00.
        """
        if minutes <= 0:
            raise ValueError("a slot lasts at least a minute")
        start, end = _utc(start), _utc(end)
        step = timedelta(minutes=minutes)
        found: list[tuple[datetime, datetime]] = []
        for span_start, span_end in self._spans(start, end):
            if span_start >= end:
                break
            slot = (
                span_start
                if span_start >= start
                else span_start - ((span_start - start) // step) * step
            )
            while slot + step <= min(span_end, end):
                found.append((slot, slot + step))
                slot += step
        return found

    def open_seconds_between(self, a: datetime, b: datetime) -> float:
        """Business time elapsed from ``a`` to ``b`` in seconds (0 if ``b`` is not after ``a``)."""
        a, b = _utc(a), _utc(b)
        if b <= a:
            return 0.0
        total = timedelta()
        for start, end in self._spans(a, b):
            if start >= b:
                break
            if end > a:
                total += min(end, b) - max(start, a)
        return total.total_seconds()

    def ranges_on(self, day: date) -> tuple[tuple[int, int], ...]:
        """The opening ranges of a local date, as minutes since midnight."""
        if day in self.exceptions:
            ranges = self.exceptions[day]
        elif day in self.holidays:
            return ()
        else:
            ranges = self.weekly.get(WEEKDAYS[day.weekday()], ())
        return tuple(_parse_range(r) for r in ranges)

    def _spans(self, since: datetime, until: datetime) -> Iterator[Span]:
        """Opening ranges as UTC spans in order, from the local day before ``since`` to the day
        after ``until`` (a range of a neighbouring date can cover an instant when clocks change
        around midnight). Empty spans (inside a skipped hour) are left out."""
        zone = ZoneInfo(self.timezone)
        day = since.astimezone(zone).date() - timedelta(days=1)
        last = until.astimezone(zone).date() + timedelta(days=1)
        while day <= last:
            for start_minute, end_minute in self.ranges_on(day):
                start = _resolve(self.timezone, day, start_minute)
                end = _resolve(self.timezone, day, end_minute)
                if start < end:
                    yield start, end
            day += timedelta(days=1)

    def _periods(self, since: datetime, until: datetime) -> Iterator[Span]:
        """Open periods: the spans with touching ones joined (Monday to 24:00 and Tuesday from
        00:00 make one period)."""
        current: Span | None = None
        for start, end in self._spans(since, until):
            if current is not None and start <= current[1]:
                current = (current[0], max(current[1], end))
                continue
            if current is not None:
                yield current
            current = (start, end)
        if current is not None:
            yield current


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("business hours need an aware datetime")
    return at.astimezone(UTC)


def _wall(at: datetime, zone: ZoneInfo) -> datetime:
    return at.astimezone(zone).replace(tzinfo=None)


@lru_cache(maxsize=8192)
def _resolve(key: str, day: date, minute: int) -> datetime:
    """The first instant at which the wall clock of zone ``key`` shows ``minute`` of ``day`` or
    later: the time itself, its first occurrence if it is repeated, the jump if it is skipped."""
    zone = ZoneInfo(key)
    day, minute = day + timedelta(days=minute // _DAY), minute % _DAY  # 24:00 = next 00:00
    wall = datetime.combine(day, time(minute // 60, minute % 60))
    first = wall.replace(tzinfo=zone).astimezone(UTC)  # fold=0: the first of a repeated time
    if _wall(first, zone) == wall:
        return first
    # Skipped: the two folds fall either side of the jump; find it to the second (tzdata's
    # transitions are whole seconds). The wall clock only moves forward between them.
    other = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    before, after = int(min(first, other).timestamp()), int(max(first, other).timestamp())
    while after - before > 1:
        middle = (before + after) // 2
        if _wall(datetime.fromtimestamp(middle, UTC), zone) >= wall:
            after = middle
        else:
            before = middle
    return datetime.fromtimestamp(after, UTC)
