"""The rules of a callback request and of its attempts, without a database."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from relais.channels.callback.domain import (
    DEFAULT_COUNTRIES,
    CallbackPlan,
    CallbackPolicy,
    CallbackState,
    Dialler,
    Done,
    InvalidCallback,
    RecentCounts,
    Retry,
    TelLinkDialler,
    bookable_slots,
    check_request,
    check_time,
    next_after_outcome,
    normalise_phone,
    visitor_status,
)
from relais.routing.hours import BusinessHours

PARIS = ZoneInfo("Europe/Paris")
POLICY = CallbackPolicy()
NONE_YET = RecentCounts(by_visitor=0, by_number=0, by_ip=0)
OFFICE = BusinessHours(
    timezone="Europe/Paris",
    weekly=dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), ("09:00-12:00", "13:00-18:00")),
    holidays=(date(2024, 12, 25),),
)
MOBILE = "+33612345678"


def paris(day: int, hour: int, minute: int = 0) -> datetime:
    """A wall-clock time in Paris in January 2024 (the 15th is a Monday), as UTC."""
    return datetime(2024, 1, day, hour, minute, tzinfo=PARIS).astimezone(UTC)


def fr(raw: str) -> str:
    return normalise_phone(raw, default_region="FR", allowed_countries=DEFAULT_COUNTRIES)


def refusal(raw: str, *, region: str = "FR", countries: tuple[str, ...] = DEFAULT_COUNTRIES) -> str:
    with pytest.raises(InvalidCallback) as caught:
        normalise_phone(raw, default_region=region, allowed_countries=countries)
    return caught.value.reason


# --- the number ------------------------------------------------------------------------------


def test_a_french_national_number_becomes_e164() -> None:
    assert fr("06 12 34 56 78") == "+33612345678"
    assert fr("06.12.34.56.78") == "+33612345678"
    assert fr("0033 6 12 34 56 78") == "+33612345678"
    assert normalise_phone("06 12 34 56 78", default_region="fr", allowed_countries=["FR"]) == (
        "+33612345678"
    )


def test_an_international_number_is_read_whatever_the_region() -> None:
    assert fr("+44 20 7946 0958") == "+442079460958"
    assert normalise_phone(
        "(212) 555-0123", default_region="US", allowed_countries=DEFAULT_COUNTRIES
    ) == ("+12125550123")


@pytest.mark.parametrize(
    "raw", ["", "hello", "06 12", "06 12 34 56 78 90 12", "1" * 41, "+33 6 12 34 56 78 ext. 12"]
)
def test_what_is_not_a_callable_number_is_invalid(raw: str) -> None:
    assert refusal(raw) == "invalid_number"


@given(st.text(alphabet="0123456789 +().-#x", max_size=30), st.sampled_from(["FR", "US", "GB"]))
def test_any_input_is_refused_or_becomes_a_number_that_normalises_to_itself(
    raw: str, region: str
) -> None:
    try:
        number = normalise_phone(raw, default_region=region, allowed_countries=DEFAULT_COUNTRIES)
    except InvalidCallback:
        return
    assert re.fullmatch(r"\+[1-9]\d{1,14}", number)
    assert normalise_phone(number, default_region="ZZ", allowed_countries=DEFAULT_COUNTRIES) == (
        number
    )


def test_a_national_number_without_a_region_is_invalid() -> None:
    assert refusal("06 12 34 56 78", region="") == "invalid_number"


@pytest.mark.parametrize(
    "raw",
    [
        "08 99 12 34 56",  # French premium rate
        "0810 12 34 56",  # French shared cost
        "0800 12 34 56",  # French toll free
        "+44 70 1234 5678",  # UK personal number
    ],
)
def test_numbers_that_could_cost_the_company_are_refused_without_saying_why(raw: str) -> None:
    with pytest.raises(InvalidCallback) as caught:
        fr(raw)
    assert caught.value.reason == "number_type_refused"
    assert caught.value.code == "number_refused"
    assert caught.value.message == "This number can't be called back."
    assert caught.value.status_code == 422


def test_a_number_of_a_country_outside_the_list_is_refused() -> None:
    assert refusal("+81 3 1234 5678") == "country_not_allowed"  # Japan
    assert refusal("+44 1534 123456") == "country_not_allowed"  # Jersey shares +44 with GB
    assert refusal("+33 6 12 34 56 78", countries=("BE",)) == "country_not_allowed"


def test_the_policy_refuses_unknown_countries_and_malformed_blocklist_entries() -> None:
    with pytest.raises(ValidationError):
        CallbackPolicy(allowed_countries=("fr",))
    with pytest.raises(ValidationError):
        CallbackPolicy(allowed_countries=())
    with pytest.raises(ValidationError):
        CallbackPolicy(blocklist=("0612345678",))
    with pytest.raises(ValidationError):
        CallbackPolicy.model_validate({"max_attempts": 3, "retries": 2})


# --- the request -----------------------------------------------------------------------------


def check(
    number: str = MOBILE,
    *,
    now: datetime,
    slot: tuple[datetime, datetime] | None = None,
    policy: CallbackPolicy = POLICY,
    counts: RecentCounts = NONE_YET,
) -> CallbackPlan:
    return check_request(policy, number, now=now, requested_slot=slot, hours=OFFICE, counts=counts)


def check_refusal(
    number: str = MOBILE,
    *,
    now: datetime,
    slot: tuple[datetime, datetime] | None = None,
    policy: CallbackPolicy = POLICY,
    counts: RecentCounts = NONE_YET,
) -> InvalidCallback:
    with pytest.raises(InvalidCallback) as caught:
        check(number, now=now, slot=slot, policy=policy, counts=counts)
    return caught.value


def test_now_while_open_is_called_from_now() -> None:
    now = paris(15, 10)
    assert check(now=now) == CallbackPlan(number=MOBILE, not_before=now, slot_end=None)


def test_now_while_closed_is_refused_with_the_next_slots() -> None:
    refused = check_refusal(now=paris(15, 12, 15))  # lunch
    assert refused.code == "queue_closed"
    assert refused.slots[0] == (paris(15, 13), paris(15, 13, 30))
    assert all(OFFICE.is_open(start) for start, _ in refused.slots)
    assert refused.slots[-1][1] <= paris(15, 12, 15) + timedelta(days=7)


def test_a_slot_inside_hours_is_booked() -> None:
    slot = (paris(16, 9, 30), paris(16, 10))
    plan = check(now=paris(15, 20), slot=slot)
    assert plan == CallbackPlan(number=MOBILE, not_before=slot[0], slot_end=slot[1])
    # The same instants written in Paris time are the same slot.
    in_paris = (slot[0].astimezone(PARIS), slot[1].astimezone(PARIS))
    assert check(now=paris(15, 20), slot=in_paris) == plan


@pytest.mark.parametrize(
    "slot",
    [
        (paris(16, 12), paris(16, 12, 30)),  # lunch
        (paris(20, 10), paris(20, 10, 30)),  # Saturday
        (paris(16, 9, 10), paris(16, 9, 40)),  # off the grid
        (paris(16, 9), paris(16, 10)),  # not a slot's length
        (paris(15, 19), paris(15, 19, 30)),  # in the past
        (paris(29, 10), paris(29, 10, 30)),  # beyond the seven days
    ],
)
def test_a_slot_that_is_not_offered_is_refused(slot: tuple[datetime, datetime]) -> None:
    refused = check_refusal(now=paris(15, 20), slot=slot)
    assert refused.code == "invalid_slot"
    assert refused.slots == tuple(bookable_slots(POLICY, OFFICE, paris(15, 20)))


def test_a_slot_too_soon_for_the_lead_time_is_refused() -> None:
    policy = CallbackPolicy(min_lead_minutes=60)
    now = paris(15, 10, 5)
    assert check_refusal(now=now, slot=(paris(15, 10, 30), paris(15, 11)), policy=policy).code == (
        "invalid_slot"
    )
    assert check(now=now, slot=(paris(15, 11, 30), paris(15, 12)), policy=policy).not_before == (
        paris(15, 11, 30)
    )


def test_a_blocklisted_number_or_prefix_is_refused_like_any_uncallable_number(
    caplog: pytest.LogCaptureFixture,
) -> None:
    policy = CallbackPolicy(blocklist=("+336123", "+33700000000"))
    caplog.set_level("INFO", logger="relais.channels.callback.domain")
    refused = check_refusal(now=paris(15, 10), policy=policy)
    assert refused.reason == "number_blocked"
    assert refused.code == "number_refused"
    assert refused.message == "This number can't be called back."
    assert "number_blocked" in caplog.text
    assert MOBILE not in caplog.text
    assert check("+33698765432", now=paris(15, 10), policy=policy).number == "+33698765432"


def test_a_whole_number_on_the_blocklist_stays_out_of_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The log says which entry refused the number by its place in the list: an entry may be a
    person's whole number, and logs at info level are kept and read by many."""
    policy = CallbackPolicy(blocklist=("+33899", MOBILE))
    caplog.set_level("DEBUG", logger="relais.channels.callback.domain")
    assert check_refusal(now=paris(15, 10), policy=policy).reason == "number_blocked"
    assert "number_blocked" in caplog.text and "entry 2" in caplog.text
    assert MOBILE not in caplog.text and MOBILE[1:] not in caplog.text


def test_the_number_is_checked_again_and_must_be_e164() -> None:
    assert check_refusal("06 12 34 56 78", now=paris(15, 10)).reason == "invalid_number"
    assert check_refusal("+33899123456", now=paris(15, 10)).reason == "number_type_refused"


@pytest.mark.parametrize(
    ("counts", "limit"),
    [
        (RecentCounts(by_visitor=3, by_number=0, by_ip=0), "visitor"),
        (RecentCounts(by_visitor=0, by_number=3, by_ip=0), "number"),
        (RecentCounts(by_visitor=0, by_number=0, by_ip=10), "ip"),
    ],
)
def test_each_rate_limit_refuses_and_says_which(counts: RecentCounts, limit: str) -> None:
    refused = check_refusal(now=paris(15, 10), counts=counts)
    assert (refused.code, refused.limit, refused.status_code) == ("too_many_requests", limit, 429)
    assert check(now=paris(15, 10), counts=RecentCounts(2, 2, 9)).number == MOBILE


# --- the attempts ----------------------------------------------------------------------------


def test_no_answer_twice_then_reached() -> None:
    now = paris(15, 10)
    assert next_after_outcome(POLICY, "no_answer", 1, now) == Retry(now + timedelta(minutes=10))
    assert next_after_outcome(POLICY, "busy", 2, now) == Retry(now + timedelta(minutes=10))
    assert next_after_outcome(POLICY, "reached", 3, now) == Done("reached")


def test_after_the_last_attempt_unanswered_it_is_unreachable() -> None:
    now = paris(15, 10)
    assert next_after_outcome(POLICY, "no_answer", 3, now) == Done("unreachable")
    policy = CallbackPolicy(max_attempts=1)
    assert next_after_outcome(policy, "busy", 1, now) == Done("unreachable")


def test_a_wrong_number_is_not_called_again() -> None:
    assert next_after_outcome(POLICY, "wrong_number", 1, paris(15, 10)) == Done("wrong_number")


def test_an_outcome_needs_an_attempt() -> None:
    with pytest.raises(ValueError, match="attempt"):
        next_after_outcome(POLICY, "no_answer", 0, paris(15, 10))


# --- the dialler -----------------------------------------------------------------------------


async def test_the_default_dialler_gives_a_tel_link_and_nothing_else() -> None:
    dialler: Dialler = TelLinkDialler()
    assert await dialler.place_call(MOBILE, agent_id="a1", task_id="t1") == "tel:+33612345678"
    with pytest.raises(ValueError, match=r"E\.164"):
        await dialler.place_call("+33 6 12;phone-context=x", agent_id="a1", task_id="t1")


# --- a change of time, and what the visitor is told -----------------------------------------


def test_a_new_time_is_a_bookable_slot_or_now_while_open() -> None:
    now = paris(15, 10, 5)
    slot = (paris(16, 9, 30), paris(16, 10))
    assert check_time(POLICY, OFFICE, now, slot) == slot
    assert check_time(POLICY, OFFICE, now, None) == (now, None)
    with pytest.raises(InvalidCallback) as closed:
        check_time(POLICY, OFFICE, paris(20, 10), None)  # Saturday
    assert closed.value.code == "queue_closed"
    assert closed.value.slots[0] == (paris(22, 9), paris(22, 9, 30))
    with pytest.raises(InvalidCallback) as off_grid:
        check_time(POLICY, OFFICE, now, (paris(16, 9, 10), paris(16, 9, 40)))
    assert off_grid.value.code == "invalid_slot"


@pytest.mark.parametrize(
    ("state", "task_state", "attempts", "shown"),
    [
        ("open", "scheduled", 0, "booked"),
        ("open", "scheduled", 1, "retry"),
        ("open", "queued", 0, "waiting"),
        ("open", "reserved", 2, "waiting"),
        ("open", "assigned", 1, "calling"),
        ("open", "timed_out", 0, "cancelled"),
        ("open", "cancelled", 0, "cancelled"),
        ("open", "wrap_up", 1, "done"),
        ("done", "completed", 1, "done"),
        ("done", "wrap_up", 1, "done"),
        ("cancelled", "cancelled", 0, "cancelled"),
    ],
)
def test_the_visitor_is_told_where_the_callback_stands(
    state: CallbackState, task_state: str, attempts: int, shown: str
) -> None:
    assert visitor_status(state, task_state, attempts) == shown
