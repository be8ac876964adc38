"""The printed table of bench/chat_latency.py, and what counts as a failed run."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any

Row = tuple[str, Callable[[dict[str, Any]], Any]]

ROWS: list[Row] = [
    ("set-up's work done, after (s) ***", lambda f: f.get("settle_s")),
    ("visitor messages/s offered", lambda f: f.get("offered_per_s")),
    ("visitor messages/s achieved", lambda f: f.get("achieved_per_s")),
    ("p50 visitor→agent (ms)", lambda f: f.get("p50_ms")),
    ("p99 visitor→agent (ms)", lambda f: f.get("p99_ms")),
    ("max visitor→agent (ms)", lambda f: f.get("max_ms")),
    ("p99 agent→visitor reply (ms)", lambda f: f.get("reply_p99_ms")),
    ("longest event-loop stall (ms) *", lambda f: f.get("stall_probe_ms")),
    ("memory per connection (KiB)", lambda f: f.get("mem_per_conn_kib")),
    ("server CPU (% of a core)", lambda f: f.get("server_cpu_pct")),
    ("load generator CPU (% of a core)", lambda f: f.get("generator_cpu_pct")),
    ("load generator loop lag (ms)", lambda f: f.get("generator_lag_ms")),
    ("lost / duplicated / redelivered", lambda f: _integrity(f) if f else None),
    ("caught up over REST (heartbeat)", lambda f: f.get("fetched")),
    ("also seen by the team (unassigned) **", lambda f: f.get("team_views")),
    ("reconnections", lambda f: sum(f["closes"].values()) if f else None),
]


def _integrity(f: dict[str, Any]) -> str:
    return f"{f['lost']} / {f['duplicated']} / {f['redelivered']}"


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, float):
        return (
            f"{value:.2f}"
            if abs(value) < 10
            else f"{value:.1f}"
            if value < 1000
            else f"{value:.0f}"
        )
    return str(value)


def report(args: argparse.Namespace, results: dict[str, Any]) -> str:
    relais, bare = results.get("relais", {}), results.get("bare", {})
    n, agents = results["conversations"], results["agents"]
    lines = [
        "",
        f"Chat latency: {n} conversations ({n} visitors + {agents} agents = {n + agents} "
        f"WebSocket connections), {args.rate:g} visitor msg/s offered (Poisson), "
        f"{args.duration:g} s measured, agents reply to {args.reply_ratio:.0%}, "
        f"compression {args.compression}",
        "",
        f"{'':<36}{'Relais':>12}{'bare relay':>12}",
    ]
    lines += [f"{label:<36}{_cell(get(relais)):>12}{_cell(get(bare)):>12}" for label, get in ROWS]
    if relais.get("p99_ms") and bare.get("p99_ms"):
        lines += ["", f"p99(Relais) / p99(bare relay): {relais['p99_ms'] / bare['p99_ms']:.1f}"]
    lines += [
        "",
        "* stall, both servers: a WebSocket ping every 10 ms on a connection of its own, from "
        "the orchestrator process; the longest gap between two pongs beyond the interval.",
        "** a visitor's first messages, before the ACD gives the conversation to an agent, show "
        "in every desk of the team; they count once in the latency, and not as redelivered.",
        "*** once every conversation has started and is held by an agent, the window waits "
        "until the server spends less than 15 % of a core in a second (the ACD's hand-out and "
        "the desks hearing of it are over): steady state, not the end of the set-up.",
    ]
    before, after = relais.get("monitor_before_ms"), relais.get("monitor_after_ms")
    if after is not None:
        during = (
            f"{after:.1f} ms, during the measured window"
            if before is None or after > before
            else f"at most {before:.1f} ms (no longer stall during the window)"
        )
        lines.append(f"  Relais's own loop monitor (/healthz loop_stall_max_ms): {during}.")
    if relais.get("restart"):
        lines += ["", _restart(relais["restart"], n + agents)]
    if relais.get("errors") or bare.get("errors"):
        lines += ["", f"errors: Relais {relais.get('errors')}, bare {bare.get('errors')}"]
    return "\n".join(lines)


def _restart(r: dict[str, Any], connections: int) -> str:
    if r.get("not_back"):
        return (
            f"Restart (SIGKILL under {r['rate']:.0f} msg/s, same database): server answering "
            f"after {r['server_up_s']:.2f} s, but {r['not_back']} of {connections} clients "
            f"({', '.join(r['not_back_kinds'])}) not back 60 s after the kill: NOT RESUMED. "
            f"{r['lost']} messages undelivered; {r['reconnects']} connections made "
            f"({_closes(r)})."
        )
    if r.get("not_resumed"):
        return (
            f"Restart (SIGKILL under {r['rate']:.0f} msg/s, same database): server answering "
            f"after {r['server_up_s']:.2f} s, all clients back after "
            f"{r['all_reconnected_s']:.2f} s, but {r['not_resumed']} messages sent before "
            f"they were back had not arrived 120 s later: NOT RESUMED ({_closes(r)})."
        )
    return (
        f"Restart (SIGKILL under {r['rate']:.0f} msg/s, started again on the same database): "
        "server answering "
        f"after {r['server_up_s']:.2f} s; all {connections} clients reconnected after "
        f"{r['all_reconnected_s']:.2f} s; resumed after {r['resumed_s']:.2f} s "
        f"({r['backlog']} messages in flight or sent meanwhile); since the start: "
        f"{r['lost']} lost, {r['duplicated']} duplicated, {r['redelivered']} redelivered, "
        f"{r['seq_gaps']} seq gaps, {r['fetched']} caught up over REST; "
        f"{r['reconnects']} connections made ({_closes(r)})."
    )


def _closes(r: dict[str, Any]) -> str:
    return ", ".join(f"{n} x {why}" for why, n in sorted(r["closes"].items())) or "none closed"


def failures(results: dict[str, Any]) -> list[str]:
    problems = []
    for side in ("relais", "bare"):
        fig = results.get(side)
        if not fig:
            continue
        final = fig.get("restart", fig)
        if final.get("not_back"):
            problems.append(f"{side}: {final['not_back']} clients never came back after restart")
        if final.get("not_resumed"):
            problems.append(f"{side}: {final['not_resumed']} messages never arrived after restart")
        for key in ("lost", "duplicated", "redelivered", "seq_gaps"):
            if final.get(key):
                problems.append(f"{side}: {final[key]} {key.replace('_', ' ')}")
        if final.get("errors"):
            problems.append(f"{side}: errors {final['errors']}")
    return problems
