"""The rules of a "call me back" request. Pure: no I/O, no database, no framework.

A request goes through ``normalise_phone`` (what the visitor typed, to E.164) and then
``check_request`` (blocklist, rate limits, when to call); each attempt's outcome goes through
``next_after_outcome``. The caller reads the counts from its store and does the writing.

What the visitor learns when refused: ``InvalidCallback.code`` and ``.message`` go into the API
response, ``.reason`` is the precise rule for the log. A blocklisted number and a number of a
refused kind (premium rate...) both answer ``number_refused`` / "This number can't be called
back.": telling someone their number is blocklisted tells them to use another one, and
nobody with a genuine need asks to be called back on a premium-rate line.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol, assert_never

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType
from pydantic import BaseModel, ConfigDict, Field, field_validator

from relais.core.errors import Invalid
from relais.routing.hours import BusinessHours

log = logging.getLogger(__name__)

Slot = tuple[datetime, datetime]
Refusal = Literal[
    "invalid_number",
    "number_type_refused",
    "country_not_allowed",
    "number_blocked",
    "queue_closed",
    "invalid_slot",
    "too_many_requests",
]
Limit = Literal["visitor", "number", "ip"]

# What can be called back: numbers that ring a person and cost the ordinary price of a call.
# An allowlist, so that a kind phonenumbers adds later is refused until someone decides.
# Refused, and why:
#   PREMIUM_RATE      the caller pays a surcharge to the number's owner: the classic toll-fraud
#                     vector ("call me back" pumped to numbers the fraudster earns from);
#   SHARED_COST       surcharged too (France 081x, UK 084x);
#   PERSONAL_NUMBER   "follow-me" numbers (UK 070) charged like premium lines, a known fraud route;
#   UAN               universal access numbers of companies, often surcharged, not a person;
#   TOLL_FREE         free to call at home, often unreachable or charged from abroad, and a
#                     company's service line rather than the visitor;
#   PAGER, VOICEMAIL  no one to talk to; UNKNOWN: phonenumbers cannot tell.
CALLABLE_TYPES = frozenset(
    {
        PhoneNumberType.FIXED_LINE,
        PhoneNumberType.MOBILE,
        PhoneNumberType.FIXED_LINE_OR_MOBILE,  # the US and Canada do not tell them apart
        PhoneNumberType.VOIP,
    }
)
DEFAULT_COUNTRIES = ("FR", "BE", "CH", "LU", "GB", "DE", "ES", "IT", "NL", "US", "CA")
# Longer than any number with its spaces, dashes and brackets; parsing is not done past it.
MAX_INPUT_CHARS = 40

_E164 = re.compile(r"\+[1-9]\d{1,14}")
_PREFIX = re.compile(r"\+[1-9]\d{0,14}")
_REFUSED_NUMBER = "This number can't be called back."


class InvalidCallback(Invalid):
    """A callback request the rules refuse.

    ``code`` and ``message`` are shown to the visitor; ``reason`` (the rule) is for the log.
    ``limit`` says which rate limit was hit; ``slots`` are the times that can be booked instead
    (for ``queue_closed`` and ``invalid_slot``), which the widget offers.
    """

    def __init__(
        self,
        reason: Refusal,
        message: str,
        *,
        limit: Limit | None = None,
        slots: Sequence[Slot] = (),
    ) -> None:
        code = "number_refused" if reason in ("number_blocked", "number_type_refused") else reason
        super().__init__(message, code=code)
        self.reason: Refusal = reason
        self.limit = limit
        self.slots: tuple[Slot, ...] = tuple(slots)
        if reason == "too_many_requests":
            self.status_code = 429


def normalise_phone(raw: str, *, default_region: str, allowed_countries: Collection[str]) -> str:
    """What a visitor typed, as E.164 (``"+33612345678"``).

    ``default_region`` (ISO code, from the visitor's page or locale) reads national formats
    such as ``"06 12 34 56 78"``; a number starting with ``+`` or ``00`` needs none. Refused:
    not a valid number, an extension, a kind outside CALLABLE_TYPES, a country outside
    ``allowed_countries``.
    """
    invalid = "This doesn't look like a phone number; check it, with its country code."
    if len(raw) > MAX_INPUT_CHARS:
        raise InvalidCallback("invalid_number", invalid)
    try:
        number = phonenumbers.parse(raw, default_region.upper())
    except phonenumbers.NumberParseException:
        raise InvalidCallback("invalid_number", invalid) from None
    if number.extension:
        raise InvalidCallback(
            "invalid_number", "Give a direct number: extensions can't be dialled."
        )
    if not (phonenumbers.is_possible_number(number) and phonenumbers.is_valid_number(number)):
        raise InvalidCallback("invalid_number", invalid)
    if phonenumbers.region_code_for_number(number) not in allowed_countries:
        countries = ", ".join(sorted(allowed_countries))
        raise InvalidCallback(
            "country_not_allowed", f"We can only call back numbers of these countries: {countries}."
        )
    if phonenumbers.number_type(number) not in CALLABLE_TYPES:
        raise InvalidCallback("number_type_refused", _REFUSED_NUMBER)
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


class CallbackPolicy(BaseModel):
    """A queue's callback rules, set by admins."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    allowed_countries: tuple[str, ...] = Field(default=DEFAULT_COUNTRIES, min_length=1)
    # E.164 numbers or prefixes of them ("+33899" refuses every number starting so).
    blocklist: tuple[str, ...] = ()
    max_per_visitor_per_day: int = Field(default=3, ge=1)
    max_per_number_per_day: int = Field(default=3, ge=1)
    max_per_ip_per_hour: int = Field(default=10, ge=1)
    retry_delay_s: int = Field(default=600, ge=0)  # after no answer or busy
    max_attempts: int = Field(default=3, ge=1)
    slot_minutes: int = Field(default=30, ge=5, le=240)
    booking_horizon_days: int = Field(default=7, ge=1, le=60)
    min_lead_minutes: int = Field(default=0, ge=0)  # a slot starts at least this far from now

    @field_validator("allowed_countries")
    @classmethod
    def _known_regions(cls, regions: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [r for r in regions if r not in phonenumbers.SUPPORTED_REGIONS]
        if unknown:
            raise ValueError(f"not ISO region codes such as 'FR': {', '.join(unknown)}")
        return regions

    @field_validator("blocklist")
    @classmethod
    def _prefixes(cls, entries: tuple[str, ...]) -> tuple[str, ...]:
        wrong = [e for e in entries if not _PREFIX.fullmatch(e)]
        if wrong:
            raise ValueError(f"not E.164 numbers or prefixes such as '+33899': {', '.join(wrong)}")
        return entries


@dataclass(frozen=True)
class RecentCounts:
    """Callback requests already made (this one not included), read by the caller."""

    by_visitor: int  # today
    by_number: int  # today
    by_ip: int  # in the last hour


@dataclass(frozen=True)
class CallbackPlan:
    """What to schedule: call ``number`` from ``not_before`` (until ``slot_end`` if booked)."""

    number: str
    not_before: datetime
    slot_end: datetime | None


def bookable_slots(policy: CallbackPolicy, hours: BusinessHours, now: datetime) -> list[Slot]:
    """The slots a visitor may book now: open, ``min_lead_minutes`` away, within the horizon."""
    return hours.slots(
        now + timedelta(minutes=policy.min_lead_minutes),
        now + timedelta(days=policy.booking_horizon_days),
        policy.slot_minutes,
    )


def check_request(
    policy: CallbackPolicy,
    number_e164: str,
    *,
    now: datetime,
    requested_slot: Slot | None,
    hours: BusinessHours,
    counts: RecentCounts,
) -> CallbackPlan:
    """Accept a callback request or raise InvalidCallback.

    ``number_e164`` comes from ``normalise_phone`` (it is checked again: this function alone
    keeps the rules). ``requested_slot`` None means "now": only while the queue is open, else
    ``queue_closed`` with the bookable slots. A slot must be one of ``bookable_slots``. Rate
    limits are checked first, so a flood learns nothing about numbers.
    """
    too_many = "Too many callback requests; please try again later."
    if counts.by_ip >= policy.max_per_ip_per_hour:
        raise InvalidCallback("too_many_requests", too_many, limit="ip")
    if counts.by_visitor >= policy.max_per_visitor_per_day:
        raise InvalidCallback("too_many_requests", too_many, limit="visitor")
    if counts.by_number >= policy.max_per_number_per_day:
        raise InvalidCallback("too_many_requests", too_many, limit="number")

    number = normalise_phone(
        number_e164, default_region="ZZ", allowed_countries=policy.allowed_countries
    )
    blocked = next((i for i, p in enumerate(policy.blocklist, 1) if number.startswith(p)), None)
    if blocked is not None:
        # The visitor is told the same as for a premium number; the log says which entry by
        # its place, never its text: an entry may be a person's whole number.
        log.info("callback refused: number_blocked by blocklist entry %d", blocked)
        raise InvalidCallback("number_blocked", _REFUSED_NUMBER)

    not_before, slot_end = check_time(policy, hours, now, requested_slot)
    return CallbackPlan(number=number, not_before=not_before, slot_end=slot_end)


def check_time(
    policy: CallbackPolicy, hours: BusinessHours, now: datetime, requested_slot: Slot | None
) -> tuple[datetime, datetime | None]:
    """When to call: ``(not_before, slot_end)``, for a new request or a change of time.

    None means "now": only while the queue is open, else ``queue_closed`` with the bookable
    slots. A slot must be one of ``bookable_slots``, else ``invalid_slot`` with them.
    """
    if requested_slot is None:
        if hours.is_open(now):
            return now, None
        raise InvalidCallback(
            "queue_closed",
            "We're closed now; choose a time to be called back.",
            slots=bookable_slots(policy, hours, now),
        )
    slots = bookable_slots(policy, hours, now)
    booked = next((s for s in slots if s == requested_slot), None)
    if booked is None:
        raise InvalidCallback(
            "invalid_slot", "This time can't be booked; choose another one.", slots=slots
        )
    return booked


Outcome = Literal["reached", "no_answer", "busy", "wrong_number"]


@dataclass(frozen=True)
class Retry:
    """Call again, not before this instant."""

    not_before: datetime


@dataclass(frozen=True)
class Done:
    """No more attempts."""

    reason: Literal["reached", "wrong_number", "unreachable"]


def next_after_outcome(
    policy: CallbackPolicy, outcome: Outcome, attempts_made: int, now: datetime
) -> Retry | Done:
    """After an attempt (``attempts_made`` counts it): no answer or busy retries after
    ``retry_delay_s`` until ``max_attempts``, then "unreachable"; the others end it."""
    if attempts_made < 1:
        raise ValueError("an outcome follows at least one attempt")
    match outcome:
        case "reached" | "wrong_number":
            return Done(reason=outcome)
        case "no_answer" | "busy":
            if attempts_made >= policy.max_attempts:
                return Done(reason="unreachable")
            return Retry(not_before=now + timedelta(seconds=policy.retry_delay_s))
        case _:
            assert_never(outcome)


class Dialler(Protocol):
    """Places the call of a callback, between an agent and the number."""

    async def place_call(self, number_e164: str, *, agent_id: str, task_id: str) -> str:
        """Start the call and return its id (what the desk shows and the call is logged by).

        Called when the agent accepts the callback task; ``number_e164`` comes from
        ``check_request``. Calling again for the same ``task_id`` (the agent retried, the
        process restarted) must not ring the number twice at once: return the call in progress.
        Until the telephony work brings a dialler through SIP, the agent's desk shows a
        ``tel:`` link (TelLinkDialler) and the agent's own phone places the call.
        """
        ...


class TelLinkDialler:
    """The default Dialler: places nothing, returns the ``tel:`` URI the desk shows as a link."""

    async def place_call(self, number_e164: str, *, agent_id: str, task_id: str) -> str:
        if not _E164.fullmatch(number_e164):
            raise ValueError("a tel: link is only made from an E.164 number")
        return f"tel:{number_e164}"


# What the visitor is told of their request, from the callback's own state and its task's.
VisitorStatus = Literal["booked", "waiting", "calling", "retry", "done", "cancelled"]
CallbackState = Literal["open", "done", "cancelled"]


def visitor_status(state: CallbackState, task_state: str, attempts: int) -> VisitorStatus:
    """``booked``: waiting for its slot; ``waiting``: in the queue (or being offered to an
    agent, which the visitor need not tell apart); ``calling``: an agent has it; ``retry``:
    an attempt failed and the next one waits for its time; then ``done`` or ``cancelled``."""
    if state != "open":
        return state
    match task_state:
        case "scheduled":
            return "retry" if attempts else "booked"
        case "queued" | "reserved":
            return "waiting"
        case "assigned":
            return "calling"
        case "cancelled" | "abandoned" | "timed_out":
            return "cancelled"  # ended by a supervisor or the queue's rules
        case _:
            return "done"
