"""The servers under test, as processes: start, wait until healthy, kill, read memory and CPU.

Relais is started the way an operator would (``python -m relais migrate``, ``user add``,
``serve``) on a fresh SQLite file; the bare relay is bench/bare_relay.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil  # type: ignore[import-untyped]  # no stubs in requirements.lock

BENCH = Path(__file__).resolve().parent
VISITOR_ORIGIN = "http://shop.relais.bench"  # the customer site the widget is embedded in


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Process:
    """A server process and its figures (psutil)."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path, log: Path) -> None:
        self.argv, self.env, self.cwd, self.log = argv, env, cwd, log
        self.popen: subprocess.Popen[bytes] | None = None
        self._pid: int | None = None

    @classmethod
    def existing(cls, pid: int) -> Process:
        """A server somebody else started: only measured, never started nor killed."""
        process = cls([], {}, Path.cwd(), Path(os.devnull))
        process._pid = pid
        return process

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(
                self.argv, env=self.env, cwd=self.cwd, stdout=out, stderr=subprocess.STDOUT
            )

    @property
    def ps(self) -> psutil.Process:
        pid = self.popen.pid if self.popen is not None else self._pid
        assert pid is not None, "not started"
        return psutil.Process(pid)

    def rss(self) -> int:
        return int(self.ps.memory_info().rss)

    def cpu_s(self) -> float:
        times = self.ps.cpu_times()
        return float(times.user + times.system)

    async def settle(self, below_pct: float = 15.0, within: float = 120.0) -> float:
        """Waits until a second of the server's time uses less than ``below_pct`` of a core:
        the work the set-up left behind (the ACD handing conversations out, every desk hearing
        of it) is done. Returns the seconds waited."""
        start = time.monotonic()
        while True:
            cpu0, t0 = self.cpu_s(), time.monotonic()
            await asyncio.sleep(1.0)
            used = 100 * (self.cpu_s() - cpu0) / (time.monotonic() - t0)
            if used < below_pct or time.monotonic() - start > within:
                return time.monotonic() - start

    def kill(self, sig: int = signal.SIGKILL) -> float:
        """Returns when it was killed (monotonic)."""
        assert self.popen is not None
        self.popen.send_signal(sig)
        at = time.monotonic()
        self.popen.wait(30)
        return at

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.popen.kill()

    def tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""

    async def wait_healthy(self, url: str, within: float = 60.0) -> float:
        """Polls /healthz; returns when it first answered (monotonic)."""
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(trust_env=False, timeout=2) as client:
            while time.monotonic() < deadline:
                if self.popen is not None and self.popen.poll() is not None:
                    raise RuntimeError(f"server exited ({self.popen.returncode}):\n{self.tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(url)).status_code == 200:
                        return time.monotonic()
                await asyncio.sleep(0.02)
        raise RuntimeError(f"server not healthy after {within:.0f} s:\n{self.tail()}")


def listening_pid(port: int) -> int | None:
    """The process serving an already-running server's port, if this machine has it."""
    with contextlib.suppress(psutil.Error):
        for conn in psutil.net_connections(kind="tcp"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
                pid: int | None = conn.pid
                return pid
    return None


def bare_relay(workdir: Path, port: int) -> Process:
    argv = [sys.executable, str(BENCH / "bare_relay.py"), "--port", str(port)]
    return Process(argv, dict(os.environ), workdir, workdir / "bare_relay.log")


class Relais:
    """A Relais server of our own on a fresh SQLite database in `workdir`."""

    def __init__(self, workdir: Path, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.env = {
            **os.environ,
            "RELAIS_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'relais.db'}",
            # Fixed, so that visitors' tokens stay valid when the restart test starts it again.
            "RELAIS_SECRET_KEY": secrets.token_urlsafe(32),
            "RELAIS_PUBLIC_URL": self.base,
            "RELAIS_WIDGET__ALLOWED_ORIGINS": f'["{VISITOR_ORIGIN}"]',
            "RELAIS_ATTACHMENTS__DIRECTORY": str(workdir / "attachments"),
            # The simulated agents take what they are given, as a queue with auto-accept does.
            "RELAIS_ROUTING__AUTO_ACCEPT": "true",
        }
        serve = [sys.executable, "-m", "relais", "serve", "--port", str(port)]
        self.process = Process(serve, self.env, workdir, workdir / "relais.log")

    async def prepare(self, emails: list[str], password: str, max_chats: int) -> None:
        out = await _run([sys.executable, "-m", "relais", "migrate"], self.env)
        if out is not None:
            raise RuntimeError(f"relais migrate failed:\n{out}")
        await add_agents(emails, password, max_chats, self.env)


async def add_agents(
    emails: list[str], password: str, max_chats: int, env: dict[str, str], parallel: int = 2
) -> None:
    """With the CLI, as an operator would; an agent that exists already is fine."""
    gate = asyncio.Semaphore(parallel)

    async def one(i: int, email: str) -> None:
        argv = [sys.executable, "-m", "relais", "user", "add", "--email", email]
        argv += ["--name", f"Bench agent {i}", "--max-chats", str(max_chats)]
        async with gate:
            # Two `user add` at once on one SQLite file: the loser's deferred transaction
            # cannot become a writer and fails with "database is locked" at once. Try again.
            for attempt in range(10):
                out = await _run(argv, {**env, "RELAIS_PASSWORD": password})
                if out is None or "exists already" in out:
                    return
                if "database is locked" not in out or attempt == 9:
                    raise RuntimeError(f"relais user add {email} failed:\n{out}")
                await asyncio.sleep(0.2)

    async with asyncio.TaskGroup() as group:
        for i, email in enumerate(emails):
            group.create_task(one(i, email))


async def _run(argv: list[str], env: dict[str, str]) -> str | None:
    """None on success, else what the command printed."""
    proc = await asyncio.create_subprocess_exec(
        *argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    out, _ = await proc.communicate()
    return None if proc.returncode == 0 else out.decode(errors="replace")
