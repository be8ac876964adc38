"""The load generator: one process, one event loop, every simulated client of one run.

Started by bench/chat_latency.py, which owns the servers. They talk in JSON lines: this process
prints a step on stdout and, when the step says so, waits on stdin for the answer (so that the
orchestrator measures the server's memory between set-up and connections, kills it for the
restart test, and so on). Logs go to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import random
import resource
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from _wsbare import BareAgent, BareVisitor
from _wsledger import Ledger, percentile
from _wspeer import Context, Peer
from _wsrelais import RelaisAgent, RelaisVisitor, Target, login_agents, visitor_tokens

Visitor = RelaisVisitor | BareVisitor


class Control:
    """The orchestrator's side of the conversation, over stdio."""

    def __init__(self) -> None:
        self._received: dict[str, dict[str, Any]] = {}
        self._arrived = asyncio.Condition()

    async def start(self) -> None:
        reader = asyncio.StreamReader()
        loop = asyncio.get_running_loop()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        self._reader = asyncio.create_task(self._read(reader))

    async def _read(self, reader: asyncio.StreamReader) -> None:
        while line := await reader.readline():
            command = json.loads(line)
            async with self._arrived:
                self._received[command["cmd"]] = command
                self._arrived.notify_all()

    @staticmethod
    def emit(step: str, **data: Any) -> None:
        print(json.dumps({"step": step, **data}), flush=True)

    async def wait(self, cmd: str) -> dict[str, Any]:
        async with self._arrived:
            await self._arrived.wait_for(lambda: cmd in self._received)
            return self._received.pop(cmd)

    async def step(self, step: str, **data: Any) -> dict[str, Any]:
        """Say where we are and wait until told to go on."""
        self.emit(step, **data)
        return await self.wait("continue")


class LoopLag:
    """How late this process's own timers fire: if the generator were the bottleneck, here
    is where it would show."""

    def __init__(self) -> None:
        self.max_s = 0.0

    async def run(self, interval: float = 0.01) -> None:
        while True:
            start = time.monotonic()
            await asyncio.sleep(interval)
            self.max_s = max(self.max_s, time.monotonic() - start - interval)


async def wait_until(condition: Callable[[], bool], within: float, what: str) -> float:
    start = time.monotonic()
    said = start
    while not condition():
        now = time.monotonic()
        if now > start + within:
            raise TimeoutError(f"{what}: not done after {within:.0f} s")
        if now - said > 10:
            log(f"{what}: still waiting after {now - start:.0f} s")
            said = now
        await asyncio.sleep(0.02)
    return time.monotonic()


def log(text: str) -> None:
    print(f"  generator: {text}", file=sys.stderr, flush=True)


async def connect(peers: Sequence[Peer], tasks: list[asyncio.Task[None]], batch: int) -> None:
    """Open connections a batch at a time, as users arrive, not as one SYN flood."""
    for i in range(0, len(peers), batch):
        group = peers[i : i + batch]
        tasks.extend(asyncio.create_task(p.run()) for p in group)
        await asyncio.wait_for(asyncio.gather(*(p.ready.wait() for p in group)), 120)


async def offer(
    visitors: Sequence[Visitor],
    rate: float,
    stop: asyncio.Event,
    rng: random.Random,
    until: float = math.inf,
) -> None:
    """Poisson arrivals at `rate` in total: the sum of N Poisson streams of rate/N, one per
    conversation, is one Poisson stream whose every arrival picks a conversation at random."""
    next_t = time.monotonic()
    while not stop.is_set():
        next_t += rng.expovariate(rate)
        if next_t >= until:
            return
        delay = next_t - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        rng.choice(visitors).send_message()


async def drain(ledger: Ledger, peers: Sequence[Peer], patience: float = 10.0) -> None:
    """Wait for what is still in flight, as long as it keeps arriving: an overloaded server
    is late, not lossy; what has stopped arriving for `patience` seconds is lost."""
    missing, progress_at = ledger.undelivered(), time.monotonic()
    while missing or any(p.pending for p in peers):
        await asyncio.sleep(0.1)
        now_missing = ledger.undelivered()
        if now_missing < missing:
            missing, progress_at = now_missing, time.monotonic()
        elif time.monotonic() - progress_at > patience:
            return


def window(ledger: Ledger, start: float, end: float) -> dict[str, Any]:
    v2a, a2v = ledger.window(start, end), ledger.window(start, end, "a2v")
    return {
        "seconds": end - start,
        "offered_per_s": v2a.sent / (end - start),
        "achieved_per_s": ledger.delivered_between(start, end) / (end - start),
        "p50_ms": percentile(v2a.latencies_ms, 50),
        "p99_ms": percentile(v2a.latencies_ms, 99),
        "max_ms": max(v2a.latencies_ms, default=math.nan),
        "replies": a2v.sent,
        "reply_p50_ms": percentile(a2v.latencies_ms, 50),
        "reply_p99_ms": percentile(a2v.latencies_ms, 99),
    }


def integrity(ctx: Context) -> dict[str, Any]:
    ledger = ctx.ledger
    return {
        "lost": ledger.undelivered(),
        "lost_replies": sum(
            1 for s in ledger.sent.values() if s.direction == "a2v" and not s.received
        ),
        "never_written": sum(1 for s in ledger.sent.values() if not s.written),
        "duplicated": ledger.duplicated,
        "redelivered": ledger.redelivered,
        "team_views": ledger.team_views,
        "redelivered_via": dict(ledger.redelivered_via),
        "unknown": ledger.unknown,
        "seq_gaps": ctx.seq_gaps,
        "fetched": ctx.fetched,
        "late_frames": ctx.late_frames,
        "errors": dict(ctx.errors),
        "closes": dict(ctx.closes),
    }


async def build(args: argparse.Namespace, ctx: Context) -> tuple[list[Visitor], list[Peer]]:
    n, a = args.conversations, args.agents
    if args.mode == "bare":
        base = args.base.replace("http", "ws", 1)
        bare_agents: list[Peer] = [BareAgent(ctx, base, i) for i in range(a)]
        return [BareVisitor(ctx, base, i, i * a // n) for i in range(n)], bare_agents
    target = Target(args.base, args.visitor_origin, args.agent_origin)
    emails = [args.agent_email.format(i) for i in range(a)]
    sessions = await login_agents(target, emails, args.agent_password)
    tokens = await visitor_tokens(target, n)
    agents: list[Peer] = [RelaisAgent(ctx, target, s) for s in sessions]
    return [RelaisVisitor(ctx, target, t) for t in tokens], agents


def all_held(visitors: Sequence[Visitor], agents: Sequence[Peer]) -> bool:
    """Every visitor's conversation is in the hands of an agent (the bare relay pairs them)."""
    held: set[str] = set()
    for agent in agents:
        if isinstance(agent, RelaisAgent):
            held |= agent.mine
    return all(v.conversation_id in held for v in visitors if isinstance(v, RelaisVisitor))


async def restart_test(
    control: Control, ctx: Context, visitors: list[Visitor], peers: list[Peer], rate: float
) -> dict[str, Any]:
    """Load on; the orchestrator kills the server and starts it again on the same database;
    how long until every client is back and every message sent meanwhile has arrived."""
    ledger, start = ctx.ledger, time.monotonic()
    connects = sum(p.connects for p in peers)
    stop = asyncio.Event()
    load = asyncio.create_task(offer(visitors, rate, stop, ctx.rng))
    await asyncio.sleep(2.0)
    control.emit("kill_now")
    t_kill = (await control.wait("killed"))["t"]

    def back() -> bool:
        return all(p.ready.is_set() and p.connected_at > t_kill for p in peers)

    try:
        await wait_until(back, 60, "reconnect")
    except TimeoutError:
        # Reported, not raised: the figures of the run are still worth printing.
        away = [p for p in peers if not (p.ready.is_set() and p.connected_at > t_kill)]
        stop.set()
        await load
        kinds = sorted({type(p).__name__ for p in away})
        return {
            "server_up_s": (await control.wait("up"))["t"] - t_kill,
            "not_back": len(away),
            "not_back_kinds": kinds,
            "reconnects": sum(p.connects for p in peers) - connects,
            **integrity(ctx),
        }
    t_all = max(p.connected_at for p in peers)
    log(f"restart: every client back {t_all - t_kill:.1f} s after the kill")
    backlog = sum(
        1
        for s in ledger.sent.values()
        if start <= s.generated < t_all and not 0 < s.received < t_kill
    )

    def resumed() -> bool:
        return ledger.last_delivery_of(t_all, t_kill, since=start) is not None

    try:
        await wait_until(resumed, 120, "resume")
    except TimeoutError:
        missing = [
            (cid, s) for cid, s in ledger.sent.items()
            if start <= s.generated < t_all and not s.received
        ]  # fmt: skip
        stop.set()
        await load
        for cid, s in missing[:10]:
            written = f"{s.written - t_kill:+.1f} s" if s.written else "never"
            log(f"restart: never arrived: {cid} {s.direction}, generated "
                f"{s.generated - t_kill:+.1f} s after the kill, written {written}")  # fmt: skip
        return {
            "server_up_s": (await control.wait("up"))["t"] - t_kill,
            "all_reconnected_s": t_all - t_kill,
            "not_resumed": len(missing),
            "errors": dict(ctx.errors),
            **integrity(ctx),
        }
    t_resumed = ledger.last_delivery_of(t_all, t_kill, since=start) or t_all
    log(f"restart: resumed {t_resumed - t_kill:.1f} s after the kill")
    await asyncio.sleep(2.0)  # live traffic again, then stop and count
    stop.set()
    await load
    await drain(ledger, peers)
    t_up = (await control.wait("up"))["t"]
    return {
        "server_up_s": t_up - t_kill,
        "all_reconnected_s": t_all - t_kill,
        "resumed_s": t_resumed - t_kill,
        "backlog": backlog,
        "reconnects": sum(p.connects for p in peers) - connects,
        **integrity(ctx),
    }


async def main(args: argparse.Namespace) -> None:
    control = Control()
    await control.start()
    ctx = Context(Ledger(), random.Random(args.seed), args.compression, args.reply_ratio)
    ctx.catch_up = args.catch_up
    lag = LoopLag()
    lag_task = asyncio.create_task(lag.run())
    visitors, agents = await build(args, ctx)
    peers: list[Peer] = [*agents, *visitors]
    log(f"{len(agents)} agents logged in, {len(visitors)} visitor sessions")
    await control.step("setup_done")

    tasks: list[asyncio.Task[None]] = []
    t0 = time.monotonic()
    await connect(agents, tasks, 50)
    await connect(visitors, tasks, 100)
    t1 = time.monotonic()
    log(f"{len(peers)} connections in {t1 - t0:.1f} s")
    # Each visitor starts its conversation (the server assigns it to an agent) before the clock.
    stop = asyncio.Event()
    for v in visitors:
        v.send_message()
        await asyncio.sleep(1 / max(args.rate, 50))
    await wait_until(lambda: ctx.ledger.undelivered() == 0, 300, "warm-up")
    t_started = time.monotonic()
    log(f"{len(visitors)} conversations started in {t_started - t1:.1f} s")
    # Then the ACD hands them out: until each is held by an agent, its messages go to the whole
    # team, and the routing's work would land in the window's latencies.
    await wait_until(lambda: all_held(visitors, agents), 300, "assignment")
    t2 = time.monotonic()
    log(f"every conversation held by an agent {t2 - t_started:.1f} s later")
    await control.step("connected", connections=len(peers), connect_s=t1 - t0, warmup_s=t2 - t1)

    # The instrument's own pauses would land in the latencies it measures, of both relays:
    # no collection during the window (as timeit does); what lives now is frozen so that the
    # next ones do not scan it. The timers wait out this collection before the count restarts.
    gc.collect()
    gc.freeze()
    gc.disable()
    await asyncio.sleep(0.05)
    lag.max_s = 0.0
    start = time.monotonic()
    end = start + args.duration
    await offer(visitors, args.rate, stop, ctx.rng, until=end)
    await asyncio.sleep(max(0.0, end - time.monotonic()))
    control.emit("window_end")
    generator_lag_ms = lag.max_s * 1000
    gc.enable()
    await drain(ctx.ledger, peers)
    result = {**window(ctx.ledger, start, end), **integrity(ctx)}
    command = await control.step("loaded", generator_lag_ms=generator_lag_ms, **result)

    if command.get("restart"):
        # At a rate the server sustains: the resume time, not an overload backlog, is measured.
        rate = min(args.rate, 0.5 * result["achieved_per_s"])
        restart = {"rate": rate, **await restart_test(control, ctx, visitors, peers, rate)}
        await control.step("restarted", **restart)

    ctx.stopping = True
    await asyncio.gather(*(p.close() for p in peers), return_exceptions=True)
    await asyncio.wait(tasks, timeout=10)
    lag_task.cancel()
    await ctx.http.aclose()
    control.emit("done")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="load generator for bench/chat_latency.py")
    p.add_argument("--mode", choices=["relais", "bare"], required=True)
    p.add_argument("--base", required=True, help="http://host:port")
    p.add_argument("--conversations", type=int, required=True)
    p.add_argument("--agents", type=int, required=True)
    p.add_argument("--rate", type=float, required=True)
    p.add_argument("--duration", type=float, required=True)
    p.add_argument("--reply-ratio", type=float, default=0.1)
    p.add_argument("--agent-email", default="bench-agent-{}@relais.bench")
    p.add_argument("--agent-password", default="bench-password")
    p.add_argument("--visitor-origin", default="http://shop.relais.bench")
    p.add_argument("--agent-origin", default="")
    p.add_argument("--compression", default="deflate", type=lambda s: None if s == "none" else s)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--catch-up", action="store_true")
    args = p.parse_args(argv)
    args.agent_origin = args.agent_origin or args.base
    return args


def run() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # thousands of sockets
    args = parse_args()
    try:
        import uvloop  # the cheaper loop, so that the generator stays out of the way
    except ImportError:
        asyncio.run(main(args))
    else:
        uvloop.run(main(args))


if __name__ == "__main__":
    run()
