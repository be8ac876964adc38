"""Chat latency under load: Relais against a bare WebSocket relay, side by side.

N conversations (a visitor each; agents take several each, as the server assigns them) exchange
messages over real WebSockets at a total Poisson rate: every message is stored as in production.
The same load then runs against bench/bare_relay.py, which forwards frames and stores nothing:
the floor. Then a restart test: the Relais server is killed under load and started again on the
same database; we time until every client is back and every message has arrived, once.

    python bench/chat_latency.py                       # 500 conversations, 400 msg/s, 20 s
    python bench/chat_latency.py --conversations 2000 --duration 30
    python bench/chat_latency.py --quick               # CI smoke: 20 conversations, 3 s
    python bench/chat_latency.py --url http://127.0.0.1:8000   # a server already running

Figures are printed, never asserted. Exit status 1 when a message was lost or duplicated.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil  # type: ignore[import-untyped]  # no stubs in requirements.lock

from _wsprobe import StallProbe, relais_hello, server_monitor_ms
from _wsrelais import Target, visitor_tokens
from _wsreport import failures, report
from _wsserver import (
    BENCH,
    VISITOR_ORIGIN,
    Process,
    Relais,
    add_agents,
    bare_relay,
    free_port,
    listening_pid,
)

AGENT_EMAIL = "bench-agent-{}@relais.bench"
AGENT_PASSWORD = "bench-password"  # noqa: S105  # throw-away agents of a throw-away database


class Generator:
    """The load generator process (bench/_wsload.py) and the steps it reports."""

    def __init__(self, argv: list[str]) -> None:
        self.argv = argv
        self.proc: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> Generator:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(BENCH / "_wsload.py"),
            *self.argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()

    async def next_step(self) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdout is not None
        line = await self.proc.stdout.readline()
        if not line:
            code = await self.proc.wait()
            raise RuntimeError(f"the load generator stopped (exit status {code})")
        step: dict[str, Any] = json.loads(line)
        return step

    def tell(self, cmd: str, **data: Any) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write((json.dumps({"cmd": cmd, **data}) + "\n").encode())

    def cpu_s(self) -> float:
        assert self.proc is not None
        times = psutil.Process(self.proc.pid).cpu_times()
        return float(times.user + times.system)


async def measure(
    argv: list[str], base: str, server: Process | None, probe: StallProbe, *, restart: bool = False
) -> dict[str, Any]:
    """One side of the comparison: drive the generator through its steps, measuring the server
    (memory, CPU, stalls) between them."""
    fig: dict[str, Any] = {}
    health = base + "/healthz"
    rss0 = cpu0 = gen0 = t0 = 0.0
    async with Generator(argv) as gen:
        while True:
            step = await gen.next_step()
            name = step.pop("step")
            if name == "done":
                return fig
            if name == "setup_done":  # logged in, sessions open, no WebSocket yet
                rss0 = server.rss() if server else 0
                gen.tell("continue")
            elif name == "connected":  # every conversation started and assigned
                fig.update(step)
                if server:
                    fig["settle_s"] = await server.settle()
                    fig["mem_per_conn_kib"] = (server.rss() - rss0) / step["connections"] / 1024
                    cpu0 = server.cpu_s()
                fig["monitor_before_ms"] = await server_monitor_ms(health)
                await probe.start()
                gen0, t0 = gen.cpu_s(), time.monotonic()
                gen.tell("continue")
            elif name == "window_end":
                fig["stall_probe_ms"] = await probe.stop()
                seconds = time.monotonic() - t0
                if server:
                    fig["server_cpu_pct"] = 100 * (server.cpu_s() - cpu0) / seconds
                fig["generator_cpu_pct"] = 100 * (gen.cpu_s() - gen0) / seconds
                fig["monitor_after_ms"] = await server_monitor_ms(health)
            elif name == "loaded":
                fig.update(step)
                gen.tell("continue", restart=restart)
            elif name == "kill_now":
                assert server is not None
                gen.tell("killed", t=server.kill())
                server.start()
                gen.tell("up", t=await server.wait_healthy(health))
            elif name == "restarted":
                fig["restart"] = step
                gen.tell("continue")


def generator_argv(args: argparse.Namespace, agents: int) -> list[str]:
    return [
        *("--conversations", str(args.conversations), "--agents", str(agents)),
        *("--rate", str(args.rate), "--duration", str(args.duration)),
        *("--reply-ratio", str(args.reply_ratio), "--compression", args.compression),
        *("--agent-email", AGENT_EMAIL, "--agent-password", AGENT_PASSWORD),
        *(["--catch-up"] if args.catch_up else []),
    ]


async def run_bare(args: argparse.Namespace, agents: int, work: Path) -> dict[str, Any]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    relay = bare_relay(work, port)
    relay.start()
    try:
        await relay.wait_healthy(base + "/healthz")
        argv = ["--mode", "bare", "--base", base, *generator_argv(args, agents)]
        probe = StallProbe(f"ws://127.0.0.1:{port}/?role=visitor&pair=probe&agent=probe")
        return await measure(argv, base, relay, probe)
    finally:
        relay.stop()


async def run_relais(args: argparse.Namespace, agents: int, work: Path) -> dict[str, Any]:
    emails = [AGENT_EMAIL.format(i) for i in range(agents)]
    max_chats = math.ceil(args.conversations / agents)
    argv = ["--mode", "relais", *generator_argv(args, agents)]
    if args.url:  # somebody else's server: agents through the CLI in this environment
        base = args.url.rstrip("/")
        await add_agents(emails, AGENT_PASSWORD, max_chats, env=dict(os.environ))
        pid = listening_pid(urlsplit(base).port or 80)
        server = Process.existing(pid) if pid else None
        argv += ["--base", base, "--visitor-origin", args.origin]
        return await measure(argv, base, server, await relais_probe(base, args.origin))
    relais = Relais(work, free_port())
    t = time.monotonic()
    await relais.prepare(emails, AGENT_PASSWORD, max_chats)
    print(f"  set-up: schema and {agents} agents in {time.monotonic() - t:.0f} s", file=sys.stderr)
    relais.process.start()
    try:
        await relais.process.wait_healthy(relais.base + "/healthz")
        argv += ["--base", relais.base, "--visitor-origin", VISITOR_ORIGIN]
        probe = await relais_probe(relais.base, VISITOR_ORIGIN)
        return await measure(argv, relais.base, relais.process, probe, restart=not args.no_restart)
    finally:
        relais.process.stop()


async def relais_probe(base: str, origin: str) -> StallProbe:
    """The stall probe, as one more visitor: Relais keeps only authenticated sockets open."""
    (token,) = await visitor_tokens(Target(base, origin, base), 1)
    return StallProbe(Target(base, origin, base).ws, origin=origin, hello=relais_hello(token))


async def run(args: argparse.Namespace) -> dict[str, Any]:
    agents = math.ceil(args.conversations / args.chats_per_agent)
    results: dict[str, Any] = {"conversations": args.conversations, "agents": agents}
    with tempfile.TemporaryDirectory(prefix="relais-bench-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        if args.only in (None, "bare"):
            print("bare relay …", file=sys.stderr)
            results["bare"] = await run_bare(args, agents, work)
        if args.only in (None, "relais"):
            print("relais …", file=sys.stderr)
            results["relais"] = await run_relais(args, agents, work)
    return results


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--conversations", type=int, default=500)
    p.add_argument("--rate", type=float, default=400.0, help="visitor messages/s in total")
    p.add_argument("--duration", type=float, default=20.0, help="measured seconds")
    p.add_argument("--url", help="an already-running Relais (default: start one)")
    p.add_argument("--origin", default=VISITOR_ORIGIN, help="an allowed widget origin (--url)")
    p.add_argument("--quick", action="store_true", help="CI smoke: 20 conversations, 3 s")
    p.add_argument("--chats-per-agent", type=int, default=25)
    p.add_argument("--reply-ratio", type=float, default=0.1, help="agent replies per message")
    p.add_argument("--compression", choices=["deflate", "none"], default="deflate")
    p.add_argument("--only", choices=["relais", "bare"])
    p.add_argument("--no-restart", action="store_true", help="skip the restart test")
    p.add_argument(
        "--catch-up",
        action="store_true",
        help="clients fetch over REST what heartbeats show missing (default: WebSocket only)",
    )
    p.add_argument("--json", type=Path, help="also write the raw figures here")
    p.add_argument("--keep", type=Path, help="work (database, server logs) in this directory")
    args = p.parse_args(argv)
    if args.quick:
        args.conversations, args.duration = 20, 3.0
    return args


def main() -> None:
    args = parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    results = run_sync(args)
    print(report(args, results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    problems = failures(results)
    if problems:
        print("FAILED: " + "; ".join(problems), file=sys.stderr)
        raise SystemExit(1)


def run_sync(args: argparse.Namespace) -> dict[str, Any]:
    return asyncio.run(run(args))


if __name__ == "__main__":
    main()
