"""``relais staffing``: the fewest agents for a service level, and the figures around that answer.

Erlang C by default; Erlang A when a mean patience is given (see relais.routing.erlang and
docs/metrics.md). Reads no database and no settings.
"""

from __future__ import annotations

import argparse
import math
import sys

from relais.routing.erlang import (
    agents_for_service_level,
    erlang_a_figures,
    erlang_c_figures,
    traffic_of,
)


def run_staffing(args: argparse.Namespace) -> None:
    try:
        table = staffing_table(
            args.calls_per_hour,
            args.aht,
            args.target,
            args.service_level,
            patience_s=args.patience,
            max_occupancy=args.max_occupancy,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
    print(table)


def staffing_table(
    calls_per_hour: float,
    aht_s: float,
    target_s: float,
    goal: float,
    *,
    patience_s: float | None = None,
    max_occupancy: float | None = None,
) -> str:
    """The answer, then agents N-1 to N+3 with P(wait), service level, ASA and occupancy (and
    abandonment under Erlang A); the answer's row is marked with ``<``."""
    traffic = traffic_of(calls_per_hour, aht_s)
    ceiling = 1.0 if max_occupancy is None else max_occupancy
    needed = agents_for_service_level(
        traffic, aht_s, target_s, goal, max_occupancy=ceiling, patience_s=patience_s
    )
    model = "Erlang C" if patience_s is None else f"Erlang A, mean patience {patience_s:g} s"
    limit = f", each busy at most {ceiling:.0%} of the time" if ceiling < 1 else ""
    lines = [
        f"{calls_per_hour:g} contacts/h x {aht_s:g} s = {traffic:.2f} Erlangs ({model})",
        f"{needed} agents answer {goal:.0%} within {target_s:g} s{limit}",
    ]
    if patience_s is not None:
        lines.append("SL: answered within target / all contacts (those who hang up count against)")
    header = f"{'agents':>6} {'P(wait)':>8} {'SL':>7} {'ASA s':>8} {'occupancy':>10}"
    lines += ["", header + (f" {'abandon':>8}" if patience_s is not None else "")]
    for n in range(max(1, needed - 1), needed + 4):
        if patience_s is None:
            c = erlang_c_figures(n, traffic, aht_s, target_s)
            row = _row(n, c.p_wait, c.service_level, c.asa_s, c.occupancy)
        else:
            a = erlang_a_figures(n, traffic, aht_s, patience_s, target_s)
            row = _row(n, a.p_wait, a.service_level, a.asa_s, a.occupancy)
            row += f" {a.p_abandon:>8.3f}"
        lines.append(row + ("  <" if n == needed else ""))
    return "\n".join(lines)


def _row(n: int, p_wait: float, sl: float, asa_s: float, occupancy: float) -> str:
    asa = f"{asa_s:>8.1f}" if math.isfinite(asa_s) else f"{'never':>8}"
    return f"{n:>6} {p_wait:>8.3f} {sl:>7.3f} {asa} {occupancy:>10.3f}"
