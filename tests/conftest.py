"""Fixtures shared by every suite: databases, a real server on a real port, a real browser.

Suites that need a service this machine lacks are skipped with the reason, and the reasons are
listed at the end of the run; under CI=true a missing service is an error instead.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from relais.config import Settings

IN_CI = os.environ.get("CI") == "true"
PG_URL = os.environ.get("RELAIS_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("RELAIS_TEST_REDIS_URL")
CHROMIUM = (
    os.environ.get("RELAIS_TEST_CHROMIUM")
    or shutil.which("chromium")
    or shutil.which("chromium-browser")
)


def need(condition: bool, reason: str) -> None:
    """Skip on a developer's machine; fail in CI, where everything must run."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI must run this test but: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- databases --------------------------------------------------------------------------------


def _pg_admin_url(url: str) -> str:
    return url.replace("+asyncpg", "")


async def _create_pg_database(base_url: str) -> tuple[str, str]:
    import asyncpg

    name = f"relais_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(_pg_admin_url(base_url))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    head, _, _ = base_url.rpartition("/")
    return f"{head}/{name}", name


async def _drop_pg_database(base_url: str, name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_pg_admin_url(base_url))
    try:
        # FORCE may meet an autovacuum worker it has no right to stop; it ends within moments.
        for attempt in range(20):
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                return
            except (asyncpg.InsufficientPrivilegeError, asyncpg.ObjectInUseError):
                if attempt == 19:
                    raise
                await asyncio.sleep(0.5)
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, migrated database: SQLite always, PostgreSQL when configured."""
    from relais.migrate import upgrade

    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'relais.db'}"
        await asyncio.to_thread(upgrade, url)
        yield url
        return
    async with postgres_database() as url:
        yield url


@asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """A new, migrated PostgreSQL database, dropped afterwards."""
    from relais.migrate import upgrade

    need(PG_URL is not None, "RELAIS_TEST_DATABASE_URL is not set (PostgreSQL)")
    assert PG_URL is not None
    url, name = await _create_pg_database(PG_URL)
    try:
        await asyncio.to_thread(upgrade, url)
        yield url
    finally:
        await _drop_pg_database(PG_URL, name)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    from relais.migrate import upgrade

    url = f"sqlite+aiosqlite:///{tmp_path / 'relais.db'}"
    upgrade(url)
    return url


def make_settings(database_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    port = overrides.pop("port", None) or free_port()
    base = f"http://127.0.0.1:{port}"
    values: dict[str, Any] = {
        "database_url": database_url,
        "secret_key": "test-secret-key-0123456789abcdef",
        "public_url": base,
        "port": port,
        "widget": {
            "allowed_origins": [base, "https://shop.example"],
            "identity_keys": {"shop-key": "shop-secret-0123456789abcdef0123"},
        },
        "attachments": {"directory": str(tmp_path / "attachments")},
        "rate_limits": {"anonymous_per_minute": 1000, "login_per_minute": 1000},
        # Chat tests see a conversation reach its agent at once; the ACD's own tests turn
        # offers on (tests/integration/test_acd.py).
        "routing": {"auto_accept": True},
    }
    values.update(overrides)
    return Settings(**values)


# -- a real server in the test's event loop ---------------------------------------------------


class LiveServer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.base = settings.public_url
        self.ws_url = self.base.replace("http", "ws", 1) + "/ws"
        self._task: asyncio.Task[None] | None = None
        self._server: Any = None
        self.app: Any = None

    async def start(self) -> None:
        import uvicorn

        from relais.app import create_app

        self.app = create_app(self.settings)
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.settings.port,
            log_level="warning",
            ws_max_size=self.settings.chat.max_frame_bytes,
            lifespan="on",
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        for _ in range(500):
            if self._server.started:
                return
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)
        raise RuntimeError("server did not start")

    async def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._task is not None:
            await asyncio.wait_for(self._task, 10)

    @property
    def runtime(self) -> Any:
        return self.app.state.runtime


@asynccontextmanager
async def seeded_server(database_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    from tests.helpers import seed_agents

    live = LiveServer(make_settings(database_url, tmp_path))
    await seed_agents(live.settings)
    await live.start()
    try:
        yield live
    finally:
        await live.stop()


@pytest.fixture
async def server(database_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    """Relais on a real port, on each configured database, with agents in two teams and a
    supervisor (tests/helpers.seed_agents)."""
    async with seeded_server(database_url, tmp_path) as live:
        yield live


@pytest.fixture
async def sqlite_server(sqlite_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    """The same, on SQLite only: for what does not depend on the database."""
    async with seeded_server(sqlite_url, tmp_path) as live:
        yield live


# -- the demo as a user starts it, and a browser ----------------------------------------------


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`relais demo` in a subprocess (demo data, built front-end), as a newcomer runs it."""
    dist = Path(__file__).parent.parent / "src/relais/web/static/dist/widget.js"
    need(dist.exists(), "the front-end is not built (make build)")
    work = tmp_path_factory.mktemp("demo")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "RELAIS_DATABASE_URL": f"sqlite+aiosqlite:///{work / 'relais.db'}",
        "RELAIS_PUBLIC_URL": base,
        "RELAIS_WIDGET__ALLOWED_ORIGINS": f'["{base}"]',
        "RELAIS_ATTACHMENTS__DIRECTORY": str(work / "attachments"),
        "RELAIS_LOG_LEVEL": "warning",
    }
    log = open(work / "server.log", "w")  # noqa: SIM115  # closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "relais", "demo", "--port", str(port)],
        cwd=work,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError((work / "server.log").read_text()) from None
                time.sleep(0.1)
        else:
            raise RuntimeError("the demo server did not start")
        yield base
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium from the system, driven by Playwright.

    Module-scoped: Playwright's sync API runs an event loop of its own in this thread while it
    is open, which the asyncio tests of other modules must not find running."""
    need(CHROMIUM is not None, "Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last: the fast suites answer first, and Playwright's loop stays apart."""
    items.sort(key=lambda item: "/e2e/" in str(item.path))


# -- say clearly what was skipped -------------------------------------------------------------


def pytest_terminal_summary(terminalreporter: Any) -> None:
    skipped = terminalreporter.stats.get("skipped", [])
    reasons: dict[str, int] = {}
    for report in skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    if reasons:
        terminalreporter.section("not run on this machine")
        for reason, count in sorted(reasons.items()):
            terminalreporter.write_line(f"{count:4d} skipped: {reason}")
        terminalreporter.write_line("CI (CI=true) installs these services and runs everything.")


@pytest.fixture
async def pg_database() -> AsyncIterator[str]:
    need(REDIS_URL is not None, "RELAIS_TEST_REDIS_URL is not set (Redis)")
    async with postgres_database() as url:
        yield url
