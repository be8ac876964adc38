"""The queueing formulas against published values, their limits, and their stability."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from relais.routing.erlang import (
    agents_for_service_level,
    erlang_a_figures,
    erlang_b,
    erlang_c,
    erlang_c_figures,
    traffic_of,
)


def test_the_published_reference_point() -> None:
    # 10 Erlangs (200 calls/h of 180 s), 14 agents, 20 s target: the textbook example.
    figures = erlang_c_figures(14, traffic_of(200, 180), 180, 20)
    assert abs(figures.p_wait - 0.174) < 0.001
    assert abs(figures.service_level - 0.888) < 0.001
    assert abs(figures.asa_s - 7.84) < 0.01
    assert abs(figures.occupancy - 10 / 14) < 1e-12


def test_erlang_b_known_values() -> None:
    assert abs(erlang_b(10, 5) - 0.01838) < 1e-5
    assert abs(erlang_b(1, 1) - 0.5) < 1e-12
    assert erlang_b(0, 3) == 1.0


def test_a_thousand_agents_do_not_overflow() -> None:
    for n, a in [(1000, 950.0), (5000, 4900.0), (1000, 1200.0)]:
        c = erlang_c(n, a)
        assert 0.0 <= c <= 1.0 and math.isfinite(c)
    figures = erlang_a_figures(1000, 1100.0, 180, 60, 20)  # overloaded: stable with abandonment
    assert 0 < figures.p_abandon < 1 and 0 <= figures.service_level <= 1


@given(st.integers(1, 200), st.floats(0.1, 0.99))
def test_more_agents_wait_less(servers: int, load: float) -> None:
    traffic = servers * load
    one, more = (
        erlang_c_figures(servers, traffic, 180, 20),
        erlang_c_figures(servers + 1, traffic, 180, 20),
    )
    assert more.p_wait <= one.p_wait + 1e-12
    assert more.service_level >= one.service_level - 1e-12


def test_erlang_a_becomes_erlang_c_as_patience_grows() -> None:
    c = erlang_c_figures(14, 10, 180, 20)
    a = erlang_a_figures(14, 10, 180, 1e9, 20)
    assert abs(a.p_wait - c.p_wait) < 1e-6
    assert abs(a.service_level - c.service_level) < 1e-6
    assert abs(a.asa_s - c.asa_s) < 1e-4
    assert a.p_abandon < 1e-6


def test_impatience_shortens_the_queue() -> None:
    patient = erlang_a_figures(10, 9.5, 180, 600, 20)
    hasty = erlang_a_figures(10, 9.5, 180, 30, 20)
    assert hasty.p_abandon > patient.p_abandon
    assert hasty.asa_s < patient.asa_s


def test_staffing_returns_the_fewest_agents_that_meet_the_goal() -> None:
    n = agents_for_service_level(10, 180, 20, 0.8)
    assert n == 14
    assert erlang_c_figures(n - 1, 10, 180, 20).service_level < 0.8
    assert agents_for_service_level(10, 180, 20, 0.8, max_occupancy=0.6) == 17
    assert agents_for_service_level(10, 180, 20, 0.8, patience_s=120) <= n
