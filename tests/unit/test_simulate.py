"""The real engine in virtual time agrees with the formulas: Erlang C without abandonment,
Erlang A with exponential patience, over a grid of loads, 100,000 arrivals each."""

from __future__ import annotations

import pytest

from relais.routing.erlang import erlang_a_figures, erlang_c_figures, traffic_of
from relais.routing.simulate import AgentGroup, Scenario, simulate

AHT, TARGET, ARRIVALS = 180.0, 20.0, 100_000
# Absolute tolerance on probabilities, relative on ASA: what 100,000 correlated waits allow.
PROBABILITY_TOLERANCE, ASA_TOLERANCE = 0.02, 0.15


@pytest.mark.parametrize(("agents", "per_hour"), [(14, 200), (5, 80), (30, 500)])
def test_simulation_agrees_with_erlang_c(agents: int, per_hour: float) -> None:
    expected = erlang_c_figures(agents, traffic_of(per_hour, AHT), AHT, TARGET)
    got = simulate(
        Scenario(per_hour, AHT, (AgentGroup(agents),), target_s=TARGET, arrivals=ARRIVALS)
    )
    assert got.abandoned == 0
    assert abs(got.p_wait - expected.p_wait) < PROBABILITY_TOLERANCE
    assert abs(got.answered_within_target - expected.service_level) < PROBABILITY_TOLERANCE
    assert abs(got.asa_s - expected.asa_s) <= ASA_TOLERANCE * expected.asa_s + 0.5
    assert abs(got.occupancy - expected.occupancy) < PROBABILITY_TOLERANCE


@pytest.mark.parametrize(("agents", "per_hour", "patience"), [(14, 200, 120), (10, 240, 60)])
def test_simulation_agrees_with_erlang_a(agents: int, per_hour: float, patience: float) -> None:
    expected = erlang_a_figures(agents, traffic_of(per_hour, AHT), AHT, patience, TARGET)
    got = simulate(
        Scenario(
            per_hour,
            AHT,
            (AgentGroup(agents),),
            target_s=TARGET,
            patience_s=patience,
            arrivals=ARRIVALS,
        )
    )
    assert abs(got.abandonment - expected.p_abandon) < PROBABILITY_TOLERANCE
    assert abs(got.service_level - expected.service_level) < PROBABILITY_TOLERANCE
    assert abs(got.asa_s - expected.asa_s) <= ASA_TOLERANCE * expected.asa_s + 0.5
