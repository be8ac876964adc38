"""The queueing formulas against published values, an independent numerical oracle, their limits
and their stability."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relais.routing.erlang import (
    agents_for_asa,
    agents_for_service_level,
    asa,
    erlang_a_figures,
    erlang_b,
    erlang_c,
    erlang_c_figures,
    occupancy,
    service_level,
    traffic_of,
)

# --- published reference values ---------------------------------------------------------------


def test_the_published_erlang_c_reference_point() -> None:
    # 200 calls an hour of 180 s = 10 Erlangs, 14 agents, 20 s target: the textbook example.
    assert traffic_of(200, 180) == 10.0
    figures = erlang_c_figures(14, 10.0, 180, 20)
    assert figures.p_wait == pytest.approx(0.174, abs=0.001)
    assert figures.service_level == pytest.approx(0.888, abs=0.001)
    assert figures.asa_s == pytest.approx(7.8, abs=0.05)
    assert figures.occupancy == pytest.approx(10 / 14)
    assert service_level(14, 10.0, 180, 20) == figures.service_level
    assert asa(14, 10.0, 180) == figures.asa_s
    assert occupancy(14, 10.0) == figures.occupancy


def test_a_second_published_erlang_c_example() -> None:
    # 0.2 calls/s of 240 s (48 Erlangs) on 55 agents: P(wait) 0.2387, ASA 8.184 s, 84.59 % in 15 s.
    figures = erlang_c_figures(55, 48.0, 240, 15)
    assert figures.p_wait == pytest.approx(0.2387, abs=0.0001)
    assert figures.asa_s == pytest.approx(8.184, abs=0.001)
    assert figures.service_level == pytest.approx(0.8459, abs=0.0001)


def test_erlang_b_known_values() -> None:
    assert erlang_b(10, 5) == pytest.approx(0.01838, abs=1e-5)
    assert erlang_b(30, 25) == pytest.approx(0.0526, abs=1e-4)  # "about 5 %" in the tables
    assert erlang_b(1, 1) == 0.5
    assert erlang_b(0, 3) == 1.0
    assert erlang_b(5, 0) == 0.0


@pytest.mark.parametrize("servers", [1, 2, 5, 13, 30])
@pytest.mark.parametrize("load", [0.3, 0.8, 0.97])
def test_erlang_b_and_c_match_the_factorial_formulas_where_those_still_fit(
    servers: int, load: float
) -> None:
    traffic = servers * load
    terms = [traffic**k / math.factorial(k) for k in range(servers + 1)]
    assert erlang_b(servers, traffic) == pytest.approx(terms[-1] / sum(terms), rel=1e-12)
    top = terms[-1] * servers / (servers - traffic)
    assert erlang_c(servers, traffic) == pytest.approx(top / (sum(terms[:-1]) + top), rel=1e-12)


# --- stability and edges ---------------------------------------------------------------------


def test_thousands_of_agents_do_not_overflow() -> None:
    for servers, traffic in [(1000, 950.0), (5000, 4900.0), (100_000, 99_000.0), (1000, 1200.0)]:
        for value in (erlang_b(servers, traffic), erlang_c(servers, traffic)):
            assert math.isfinite(value) and 0.0 <= value <= 1.0
    figures = erlang_c_figures(1000, 950.0, 180, 20)
    assert 0 < figures.p_wait < 1 and 0 < figures.service_level < 1 and figures.asa_s > 0


def test_an_overloaded_queue_never_empties_under_erlang_c() -> None:
    figures = erlang_c_figures(10, 10.0, 180, 20)
    assert (figures.p_wait, figures.service_level, figures.asa_s) == (1.0, 0.0, math.inf)
    assert figures.occupancy == 1.0


def test_erlang_a_is_stable_when_traffic_exceeds_the_agents() -> None:
    # Abandonment keeps the queue finite; agents answer what they can, the rest hang up.
    for servers, traffic, patience in [(10, 12.0, 60.0), (1000, 1100.0, 60.0), (100, 110.0, 1e6)]:
        figures = erlang_a_figures(servers, traffic, 180, patience, 20)
        assert 0 < figures.p_abandon < 1 and 0 <= figures.service_level <= 1
        # Throughput cannot exceed N/AHT: at least 1 - N/A of arrivals hang up.
        assert figures.p_abandon >= 1 - servers / traffic - 1e-9
        assert math.isfinite(figures.asa_s) and figures.occupancy <= 1


def test_erlang_a_with_nearly_no_patience_is_erlang_b() -> None:
    figures = erlang_a_figures(3, 2.0, 180, 1e-6, 20)
    assert figures.p_abandon == pytest.approx(erlang_b(3, 2.0), abs=1e-6)


def test_erlang_a_without_traffic_answers_at_once() -> None:
    figures = erlang_a_figures(3, 0.0, 180, 60, 20)
    assert (figures.p_wait, figures.p_abandon, figures.service_level, figures.asa_s) == (
        0.0,
        0.0,
        1.0,
        0.0,
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda: erlang_b(-1, 1.0),
        lambda: erlang_c(3, -1.0),
        lambda: erlang_c_figures(3, 1.0, 0, 20),
        lambda: erlang_a_figures(3, 1.0, 180, 0, 20),
        lambda: erlang_a_figures(0, 1.0, 180, 60, 20),
        lambda: agents_for_service_level(10, 180, 20, 1.5),
        lambda: agents_for_service_level(10, 180, 20, 0.8, max_occupancy=0),
        lambda: agents_for_asa(10, 180, 0),
    ],
)
def test_nonsense_inputs_are_refused(call: Callable[[], object]) -> None:
    with pytest.raises(ValueError):
        call()


# --- monotonicity ----------------------------------------------------------------------------


@given(st.integers(1, 300), st.floats(0.05, 0.99))
def test_more_agents_wait_less_under_erlang_c(servers: int, load: float) -> None:
    traffic = servers * load
    one = erlang_c_figures(servers, traffic, 180, 20)
    more = erlang_c_figures(servers + 1, traffic, 180, 20)
    assert more.p_wait <= one.p_wait + 1e-12
    assert more.service_level >= one.service_level - 1e-12
    assert more.asa_s <= one.asa_s * (1 + 1e-12)


@given(st.integers(1, 300), st.floats(0.05, 1.5), st.floats(5.0, 3600.0))
def test_more_agents_wait_and_abandon_less_under_erlang_a(
    servers: int, load: float, patience: float
) -> None:
    traffic = servers * load
    one = erlang_a_figures(servers, traffic, 180, patience, 20)
    more = erlang_a_figures(servers + 1, traffic, 180, patience, 20)
    for figures in (one, more):
        for p in (figures.p_wait, figures.p_abandon, figures.service_level):
            assert 0.0 <= p <= 1.0
    assert more.p_wait <= one.p_wait + 1e-12
    assert more.p_abandon <= one.p_abandon + 1e-12
    assert more.service_level >= one.service_level - 1e-12
    assert more.asa_s <= one.asa_s * (1 + 1e-9) + 1e-12


# --- Erlang A: limits and the birth-death oracle -------------------------------------------------


@pytest.mark.parametrize(("servers", "traffic"), [(14, 10.0), (1, 0.5), (100, 95.0)])
def test_erlang_a_becomes_erlang_c_as_patience_grows(servers: int, traffic: float) -> None:
    c = erlang_c_figures(servers, traffic, 180, 20)
    a = erlang_a_figures(servers, traffic, 180, 1e9, 20)
    assert a.p_wait == pytest.approx(c.p_wait, abs=1e-6)
    assert a.service_level == pytest.approx(c.service_level, abs=1e-6)
    assert a.answered_within_target == pytest.approx(c.service_level, abs=1e-6)
    assert a.asa_s == pytest.approx(c.asa_s, rel=1e-5)
    assert a.occupancy == pytest.approx(c.occupancy, abs=1e-6)
    assert a.p_abandon < 1e-5


def test_impatience_shortens_the_queue() -> None:
    patient = erlang_a_figures(10, 9.5, 180, 600, 20)
    hasty = erlang_a_figures(10, 9.5, 180, 30, 20)
    assert hasty.p_abandon > patient.p_abandon
    assert hasty.asa_s < patient.asa_s
    assert hasty.p_wait < patient.p_wait


@dataclass(frozen=True)
class Oracle:
    p_wait: float
    p_abandon: float
    service_level: float
    asa_s: float
    mean_wait_s: float


def birth_death_oracle(
    servers: int, traffic: float, aht_s: float, patience_s: float, target_s: float
) -> Oracle:
    """Solve M/M/N+M directly: the chain's stationary law truncated at a queue of 2,000, then,
    for an arrival that finds k waiting, the race of its own patience against the k+1 moves of
    the queue ahead of it, whose time is computed by uniformisation. Shares nothing with the
    incomplete-gamma formulas under test."""
    mu, theta = 1.0 / aht_s, 1.0 / patience_s
    lam = traffic * mu
    weights = [1.0]
    for n in range(1, servers + 2000):
        weights.append(weights[-1] * lam / (min(n, servers) * mu + max(0, n - servers) * theta))
    total = sum(weights)
    p = [w / total for w in weights]
    p_wait = sum(p[servers:])
    mean_queue = sum((n - servers) * p[n] for n in range(servers, len(p)))
    answered_within = 1.0 - p_wait
    wait_of_served = 0.0
    for k, pk in enumerate(p[servers:]):
        if pk < 1e-18:
            continue  # beyond the peak: contributes less than 1e-18
        rates = [servers * mu + j * theta + theta for j in range(k, -1, -1)]
        # Each stage must end by the queue moving, not by the customer hanging up.
        reach = math.prod((r - theta) / r for r in rates)
        answered_within += pk * reach * _hypoexponential_cdf(rates, target_s)
        wait_of_served += pk * reach * sum(1.0 / r for r in rates)
    p_abandon = theta * mean_queue / lam  # abandonment rate over arrival rate
    return Oracle(
        p_wait=p_wait,
        p_abandon=p_abandon,
        service_level=answered_within,
        asa_s=wait_of_served / (1.0 - p_abandon),
        mean_wait_s=mean_queue / lam,  # Little's law
    )


def _hypoexponential_cdf(rates: list[float], t: float) -> float:
    """P(sum of independent exponentials <= t): a Poisson clock at the top rate moves a chain
    through the stages, stage i advancing with probability rates[i]/top."""
    top = max(rates)
    stages = len(rates)
    state = [1.0] + [0.0] * stages
    poisson = math.exp(-top * t)
    cdf = poisson * state[stages]
    n = 0
    while n < top * t + 12 * math.sqrt(top * t) + 30:
        n += 1
        moved = [0.0] * (stages + 1)
        for i, q in enumerate(state):
            if i == stages:
                moved[i] += q
            else:
                moved[i + 1] += q * rates[i] / top
                moved[i] += q * (1 - rates[i] / top)
        state = moved
        poisson *= top * t / n
        cdf += poisson * state[stages]
    return cdf


ORACLE_GRID = [
    (servers, servers * load, patience)
    for servers in (1, 4, 12)
    for load in (0.6, 0.95, 1.25)
    for patience in (36.0, 180.0, 720.0)
]


@pytest.mark.parametrize(("servers", "traffic", "patience"), ORACLE_GRID)
def test_erlang_a_agrees_with_the_birth_death_oracle(
    servers: int, traffic: float, patience: float
) -> None:
    aht, target = 180.0, 20.0
    got = erlang_a_figures(servers, traffic, aht, patience, target)
    want = birth_death_oracle(servers, traffic, aht, patience, target)
    # The oracle sums floats over up to 2,000 states: agreement to 1e-9 is all either can claim.
    assert got.p_wait == pytest.approx(want.p_wait, abs=1e-9)
    assert got.p_abandon == pytest.approx(want.p_abandon, abs=1e-9)
    assert got.service_level == pytest.approx(want.service_level, abs=1e-9)
    answered = 1 - want.p_abandon
    assert got.answered_within_target == pytest.approx(want.service_level / answered, abs=1e-9)
    assert got.asa_s == pytest.approx(want.asa_s, rel=1e-9)
    # Mean wait of everyone (answered or not) is P(abandon) x mean patience.
    assert want.mean_wait_s == pytest.approx(got.p_abandon * patience, rel=1e-9)
    assert got.occupancy == pytest.approx(traffic * answered / servers, abs=1e-9)


# --- staffing ---------------------------------------------------------------------------------


def test_staffing_returns_the_fewest_agents_that_meet_the_goal() -> None:
    n = agents_for_service_level(10.0, 180, 20, 0.8)
    assert n == 14
    assert erlang_c_figures(n, 10.0, 180, 20).service_level >= 0.8
    assert erlang_c_figures(n - 1, 10.0, 180, 20).service_level < 0.8


def test_staffing_under_a_maximum_occupancy() -> None:
    n = agents_for_service_level(10.0, 180, 20, 0.8, max_occupancy=0.6)
    assert n == 17  # 10/17 = 0.588; 10/16 = 0.625
    assert occupancy(n - 1, 10.0) > 0.6


@pytest.mark.parametrize("traffic", [0.2, 3.0, 10.0, 48.0, 400.0, 2500.0])
@pytest.mark.parametrize("goal", [0.5, 0.8, 0.95])
def test_staffing_is_minimal_across_loads(traffic: float, goal: float) -> None:
    n = agents_for_service_level(traffic, 240, 20, goal)
    assert erlang_c_figures(n, traffic, 240, 20).service_level >= goal
    if n > 1:
        assert erlang_c_figures(n - 1, traffic, 240, 20).service_level < goal


@pytest.mark.parametrize("patience", [30.0, 120.0, 600.0])
def test_erlang_a_staffing_is_minimal_and_needs_no_more_than_erlang_c(patience: float) -> None:
    n = agents_for_service_level(10.0, 180, 20, 0.8, patience_s=patience)
    assert erlang_a_figures(n, 10.0, 180, patience, 20).service_level >= 0.8
    assert erlang_a_figures(n - 1, 10.0, 180, patience, 20).service_level < 0.8
    assert n <= agents_for_service_level(10.0, 180, 20, 0.8)


def test_staffing_for_an_average_speed_of_answer() -> None:
    n = agents_for_asa(10.0, 180, 15)
    assert asa(n, 10.0, 180) <= 15 < asa(n - 1, 10.0, 180)
    m = agents_for_asa(10.0, 180, 15, patience_s=120)
    assert erlang_a_figures(m, 10.0, 180, 120, 0).asa_s <= 15
    assert erlang_a_figures(m - 1, 10.0, 180, 120, 0).asa_s > 15


def test_staffing_a_thousand_agents_is_quick() -> None:
    # 1,000 Erlangs: one Erlang B recursion carried along the scan, not one per candidate.
    n = agents_for_service_level(1000.0, 180, 20, 0.8)
    assert erlang_c_figures(n, 1000.0, 180, 20).service_level >= 0.8
    assert erlang_c_figures(n - 1, 1000.0, 180, 20).service_level < 0.8
    m = agents_for_service_level(1000.0, 180, 20, 0.8, patience_s=120)
    assert m <= n
