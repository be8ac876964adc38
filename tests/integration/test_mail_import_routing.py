"""``relais mail import`` as its own process, on SQLite without Redis: the running server's
routing leader finds the tasks it wrote in the store and offers them, without a restart."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tests.conftest import LiveServer, make_settings
from tests.helpers import eventually, login, seed_agents
from tests.integration.mail_helpers import make_mail


async def test_mail_imported_by_another_process_reaches_an_agent_without_a_restart(
    sqlite_url: str, tmp_path: Path
) -> None:
    live = LiveServer(make_settings(sqlite_url, tmp_path))  # no Redis: a memory bus
    await seed_agents(live.settings)
    await live.start()
    alice = await login(live.base, "alice@test.example")
    try:
        await alice.presence("available")
        eml = tmp_path / "question.eml"
        eml.write_bytes(make_mail(to="support@127.0.0.1", subject="Imported question"))
        env = {
            **os.environ,
            "RELAIS_DATABASE_URL": sqlite_url,
            "RELAIS_ATTACHMENTS__DIRECTORY": str(tmp_path / "attachments"),
            "RELAIS_PUBLIC_URL": live.base,
            "RELAIS_REDIS_URL": "",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "relais", "mail", "import", str(eml), env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        output, _ = await process.communicate()
        assert process.returncode == 0, output.decode()
        assert b"1 routed" in output, output.decode()

        async def offered() -> str:
            tasks = (await alice.get("/api/v1/tasks")).json()
            assert [(t["channel"], t["state"]) for t in tasks] == [("email", "reserved")], tasks
            return str(tasks[0]["id"])

        task_id = await eventually(offered, timeout=20)
        assert (await alice.post(f"/api/v1/tasks/{task_id}/accept")).status_code == 200
        mine = (await alice.get("/api/v1/conversations?mine=true")).json()
        assert [c["subject"] for c in mine] == ["Imported question"]
    finally:
        await alice.close()
        await live.stop()
