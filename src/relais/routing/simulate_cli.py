"""``relais simulate``: the engine in virtual time, beside what the queueing formulas predict."""

from __future__ import annotations

import argparse
import time

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
    rows = [("", "simulated"), ("service level", f"{result.service_level:.3f}")]
    rows += [
        ("answered within target", f"{result.answered_within_target:.3f}"),
        ("P(wait)", f"{result.p_wait:.3f}"),
        ("ASA (s)", f"{result.asa_s:.1f}"),
        ("abandonment", f"{result.abandonment:.3f}"),
        ("occupancy", f"{result.occupancy:.3f}"),
    ]
    width = max(len(r[0]) for r in rows) + 2
    return "\n".join(f"{name:<{width}}{value:>10}" for name, value in rows)
