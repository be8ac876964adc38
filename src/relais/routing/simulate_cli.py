"""``relais simulate``: the engine in virtual time, beside what the queueing formulas predict."""

from __future__ import annotations

import argparse
import time

from relais.routing.erlang import (
    erlang_a_figures,
    erlang_c_figures,
    traffic_of,
)
from relais.routing.simulate import AgentGroup, Result, Scenario, simulate


def run_simulation(args: argparse.Namespace) -> None:
    scenario = Scenario(
        arrivals_per_hour=args.calls_per_hour,
        aht_s=args.aht,
        agents=(AgentGroup(args.agents),),
        target_s=args.target,
        patience_s=args.patience,
        handling=args.handling,
        arrivals=args.arrivals,
        seed=args.seed,
    )
    started = time.perf_counter()
    result = simulate(scenario)
    elapsed = time.perf_counter() - started
    traffic = args.calls_per_hour * args.aht / 3600
    print(
        f"{args.agents} agents, {args.calls_per_hour:g} arrivals/h, AHT {args.aht:g} s "
        f"({traffic:.2f} Erlangs), target {args.target:g} s"
        + (f", mean patience {args.patience:g} s" if args.patience else "")
    )
    print(f"{result.arrivals} arrivals counted, simulated in {elapsed:.1f} s\n")
    print(report(result, scenario))


def report(result: Result, scenario: Scenario) -> str:
    """The simulated figures beside the formula's (Erlang C, or A with patience)."""
    n = sum(g.count for g in scenario.agents)
    traffic = traffic_of(scenario.arrivals_per_hour, scenario.aht_s)
    if scenario.patience_s:
        a = erlang_a_figures(n, traffic, scenario.aht_s, scenario.patience_s, scenario.target_s)
        formula = ("Erlang A", a.service_level, a.answered_within_target, a.p_wait, a.asa_s)
        extra = (a.p_abandon, a.occupancy)
    else:
        c = erlang_c_figures(n, traffic, scenario.aht_s, scenario.target_s)
        formula = ("Erlang C", c.service_level, c.service_level, c.p_wait, c.asa_s)
        extra = (0.0, c.occupancy)
    rows = [
        ("", "simulated", formula[0]),
        ("service level", f"{result.service_level:.3f}", f"{formula[1]:.3f}"),
        ("answered within target", f"{result.answered_within_target:.3f}", f"{formula[2]:.3f}"),
        ("P(wait)", f"{result.p_wait:.3f}", f"{formula[3]:.3f}"),
        ("ASA (s)", f"{result.asa_s:.1f}", f"{formula[4]:.1f}"),
        ("abandonment", f"{result.abandonment:.3f}", f"{extra[0]:.3f}"),
        ("occupancy", f"{result.occupancy:.3f}", f"{extra[1]:.3f}"),
    ]
    width = max(len(r[0]) for r in rows) + 2
    return "\n".join(f"{a:<{width}}{b:>10}{c:>10}" for a, b, c in rows)
