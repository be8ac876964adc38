"""E-mail arrival to the agent's desk, against the floor of the same exchange without Relais.

    python bench/mail_latency.py                 # 50 mails over SMTP, 20 through IMAP IDLE
    python bench/mail_latency.py --quick         # 10 and 5
    python bench/mail_latency.py --smtp 200 --idle 50

Relais runs in this process on a new SQLite database (uvicorn on a real port), with its
SMTP/LMTP listener and an IMAP fetcher in IDLE on a real Dovecot (started here, unprivileged:
``tests/integration/dovecot.py``; the IDLE part is left out when Dovecot is missing). An agent
is available with the desk's WebSocket open. Each mail is timed from the moment the customer's
side starts sending it to the moment its ``message`` frame reaches the desk: one at a time, so
that each figure is one mail's path (parse, store, route, fan out), not a queue.

The floor, measured in the same run on the same machine:
- SMTP: the same client sending the same mails to an aiosmtpd server that answers 250 and
  stores nothing;
- IDLE: Dovecot's own notice to a client in IDLE (``EXISTS``) after the same APPEND: what an
  IDLE fetcher cannot beat.

Targets of the issue ("nothing left unanswered"): p95 within 15 s with IMAP IDLE, within 5 s
over SMTP/LMTP. Figures are printed, never asserted; tests check only that mail arrives.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

import aiosmtplib  # noqa: E402
from aiosmtpd.smtp import SMTP, Envelope, Session  # noqa: E402
from tests.conftest import LiveServer, free_port  # noqa: E402  # the tests' real server
from tests.helpers import Socket, login, seed_agents  # noqa: E402
from tests.integration.dovecot import PASSWORD, USER, Dovecot, dovecot  # noqa: E402
from tests.integration.mail_helpers import SUPPORT, mail_settings, make_mail  # noqa: E402

TARGETS = {"SMTP": 5.0, "IMAP IDLE": 15.0}


class _Nothing:
    """An SMTP server's handler that says 250 and keeps nothing: the floor of the exchange."""

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return "250 OK"


def _summary(latencies: list[float]) -> tuple[float, float, float]:
    ordered = sorted(latencies)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return statistics.median(ordered), p95, ordered[-1]


def _row(path: str, what: str, latencies: list[float]) -> None:
    p50, p95, top = _summary(latencies)
    print(f"{path:<10} {what:<42} {len(latencies):>5} {p50 * 1e3:>9.0f} {p95 * 1e3:>9.0f} "
          f"{top * 1e3:>9.0f}")  # fmt: skip


async def _timed(n: int, one: Callable[[int], Awaitable[None]]) -> list[float]:
    out = []
    for i in range(n):
        started = time.perf_counter()
        await one(i)
        out.append(time.perf_counter() - started)
    return out


async def smtp_floor(n: int) -> list[float]:
    port = free_port()
    loop = asyncio.get_running_loop()
    sessions: list[SMTP] = []

    def session() -> SMTP:
        sessions.append(SMTP(_Nothing()))
        return sessions[-1]

    server = await loop.create_server(session, "127.0.0.1", port)
    try:

        async def one(i: int) -> None:
            await aiosmtplib.send(_mail("f", i), sender="c@client.example", recipients=[SUPPORT],
                                  hostname="127.0.0.1", port=port)  # fmt: skip

        return await _timed(n, one)
    finally:
        server.close()
        for s in sessions:
            if s.transport is not None:
                s.transport.close()
        await server.wait_closed()


async def idle_floor(imap: Dovecot, n: int) -> list[float]:
    watcher = await imap.client()
    out = []
    try:
        assert (await watcher.select("INBOX")).result == "OK"
        for i in range(n):
            idle = await watcher.idle_start(timeout=60)  # returns once the server is idling
            started = time.perf_counter()
            await imap.append(_mail("g", i))
            while True:
                pushed = await watcher.wait_server_push(timeout=60)
                if any(b"EXISTS" in bytes(line) for line in _lines(pushed)):
                    break
            out.append(time.perf_counter() - started)
            watcher.idle_done()
            await asyncio.wait_for(idle, 10)
        return out
    finally:
        await watcher.logout()


def _lines(pushed: Any) -> list[Any]:
    return list(pushed) if isinstance(pushed, list) else [pushed]


def _mail(kind: str, i: int) -> bytes:
    return make_mail(sender=f"{kind}{i}@client.example", subject=f"Question {kind}{i}",
                     text=f"Probe {kind}{i}: where is my parcel?")  # fmt: skip


def _arrived(desk: Socket, kind: str, i: int) -> Awaitable[dict[str, Any]]:
    word = f"Probe {kind}{i}:"
    return desk.wait_for(lambda f: f["type"] == "message" and word in f["message"]["body"], 60)


async def through_relais(
    work: Path, smtp_n: int, idle_n: int, imap: Dovecot | None
) -> dict[str, list[float]]:
    listen = free_port()
    mail: dict[str, Any] = {"listen": f"127.0.0.1:{listen}", "acknowledge": True}
    if imap is not None:
        mail["mailboxes"] = [{
            "name": "support", "address": SUPPORT, "queue": "E-mail", "imap_host": imap.host,
            "imap_port": imap.port, "imap_tls": False, "imap_username": USER,
            "imap_password": PASSWORD,
        }]  # fmt: skip
    from relais.migrate import upgrade

    url = f"sqlite+aiosqlite:///{work / 'relais.db'}"
    await asyncio.to_thread(upgrade, url)
    live = LiveServer(mail_settings(url, work, **mail))
    await seed_agents(live.settings)
    await live.start()
    out: dict[str, list[float]] = {}
    try:
        agent = await login(live.base, "bruno@test.example")
        await agent.presence("available")
        desk = await agent.ws()

        async def by_smtp(i: int) -> None:
            arrived = asyncio.ensure_future(_arrived(desk, "s", i))
            await aiosmtplib.send(_mail("s", i), sender="c@client.example", recipients=[SUPPORT],
                                  hostname="127.0.0.1", port=listen)  # fmt: skip
            await arrived

        out["SMTP"] = await _timed(smtp_n, by_smtp)
        if imap is not None:
            await asyncio.sleep(1.0)  # the fetcher has taken its lease and is in IDLE

            async def by_idle(i: int) -> None:
                arrived = asyncio.ensure_future(_arrived(desk, "i", i))
                await imap.append(_mail("i", i))
                await arrived

            out["IMAP IDLE"] = await _timed(idle_n, by_idle)
        await desk.close()
        await agent.close()
    finally:
        await live.stop()
    return out


async def main(args: argparse.Namespace) -> None:
    print("E-mail arrival to desk, one mail at a time (ms)")
    header = f"{'path':<10} {'what':<42} {'mails':>5} {'p50':>9} {'p95':>9} {'max':>9}"
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory(prefix="relais-bench-mail-") as tmp:
        work = Path(tmp)
        _row("SMTP", "floor: aiosmtpd that stores nothing", await smtp_floor(args.smtp))
        try:
            async with dovecot() as imap:
                idle = await idle_floor(imap, args.idle)
                relais = await through_relais(work, args.smtp, args.idle, imap)
        except BaseException as error:  # Dovecot missing: need() skips outside pytest too
            if type(error).__name__ != "Skipped":
                raise
            print(f"(IMAP IDLE left out: {error})")
            idle, relais = [], await through_relais(work, args.smtp, 0, None)
        _row("SMTP", "Relais: listener to the desk's socket", relais["SMTP"])
        if idle:
            _row("IMAP IDLE", "floor: Dovecot's EXISTS to an IDLE client", idle)
            _row("IMAP IDLE", "Relais: APPEND to the desk's socket", relais["IMAP IDLE"])
    print()
    for path, target in TARGETS.items():
        if path in relais:
            p95 = _summary(relais[path])[1]
            verdict = "within" if p95 <= target else "OVER"
            print(f"target {path}: p95 within {target:.0f} s; measured {p95:.2f} s ({verdict})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--smtp", type=int, default=50, help="mails over SMTP")
    parser.add_argument("--idle", type=int, default=20, help="mails through IMAP IDLE")
    parser.add_argument("--quick", action="store_true", help="10 and 5 mails")
    parsed = parser.parse_args()
    if parsed.quick:
        parsed.smtp, parsed.idle = 10, 5
    asyncio.run(main(parsed))
