"""E-mail SLA clocks: due times set at intake, escalations applied once by the watch (priority
through the routing service, an alert to supervisors), levels on the wallboard; and the
suggested answers endpoint on a running server."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from relais.channels.email.events import SlaAlert
from relais.channels.email.ingest import ingest
from relais.channels.email.models import MailSla
from relais.channels.email.sla_watch import sla_step
from relais.conversations.models import Conversation
from relais.conversations.service import do_post_message, do_resolve
from relais.core.bus import Event
from relais.routing.events import TaskChanged
from relais.routing.lease import StoreLease
from relais.routing.models import Task
from relais.routing.router import AcdRouter
from relais.supervision.endpoints import compute_wallboard
from tests.conftest import LiveServer
from tests.helpers import eventually, login, seed_agents
from tests.integration.mail_helpers import mail_settings, mail_store, make_mail
from tests.integration.test_mail_automation import supervisor

SLA: dict[str, Any] = {
    "targets": [{"first_response_minutes": 10, "resolution_minutes": 60, "business_hours": False}],
    "escalation": {"warn_at": 0.5, "raise_priority_by": 5},
}


async def test_a_mail_escalates_once_per_step_and_its_clock_closes_when_resolved(
    database_url: str, tmp_path: Path
) -> None:
    async with mail_store(database_url, tmp_path, sla=SLA) as ms:
        events: list[Event] = []
        ms.bus.subscribe(events.append)
        stored = await ingest(ms.db, ms.config, make_mail(), mailbox=ms.support, source="smtp")
        async with ms.db.transaction(write=False) as uow:
            clock = await uow.session.get(MailSla, (await uow.session.scalar(select(Task.id))))
            task = await uow.session.scalar(select(Task))
        assert clock is not None and task is not None
        received = clock.received_at
        assert clock.first_response_due == received + timedelta(minutes=10)
        assert clock.resolution_due == received + timedelta(minutes=60)
        assert task.attributes["sla_first_response_due"] == clock.first_response_due.isoformat()
        lease = StoreLease(ms.db, "mail-sla", "test", ttl_s=60)
        assert await lease.acquire()
        policy = ms.config.sla

        async def step(minutes: float) -> list[Event]:
            events.clear()
            await sla_step(ms.db, lease, policy, received + timedelta(minutes=minutes))
            return list(events)

        async def row() -> tuple[MailSla, Task]:
            async with ms.db.transaction(write=False) as uow:
                got = (await uow.session.execute(select(MailSla, Task).join(Task))).one()
            return got[0], got[1]

        assert await step(4) == []
        warned = await step(6)
        assert [(e.type, e.clock) for e in warned if isinstance(e, SlaAlert)] == [
            ("sla.at_risk", "first_response")
        ]
        assert (await row())[0].level == "at_risk" and (await row())[1].priority == 0
        assert await step(7) == []  # applied once
        breached = await step(11)
        alerts = [e for e in breached if isinstance(e, SlaAlert)]
        moved = [e for e in breached if isinstance(e, TaskChanged)]
        assert [(a.type, a.priority) for a in alerts] == [("sla.breached", 5)]
        assert [(m.command, m.task.priority, m.task.version) for m in moved] == [
            ("set_priority", 5, task.version + 1)
        ]
        assert (await row())[0].level == "breached"
        board = await compute_wallboard(ms.db)
        mine = next(q for q in board.queues if q.id == ms.support.queue_id)
        assert (mine.sla_at_risk, mine.sla_breached) == (0, 1)
        assert (board.all_queues.sla_at_risk, board.all_queues.sla_breached) == (0, 1)
        assert await step(12) == []
        # An answer stops the first-response clock (missed); resolving closes the clock.
        agent = await supervisor(ms.db)
        async with ms.db.transaction() as uow:
            conversation = await uow.session.get(Conversation, stored.conversation_id)
            assert conversation is not None
            await do_post_message(uow, agent, conversation, client_id="a1", body="On it.",
                                  attachment_ids=[], max_chars=1000)  # fmt: skip
        await step(13)
        clock, _ = await row()
        assert clock.first_response_at is not None and clock.level == "on_time"
        assert [e.clock for e in await step(31) if isinstance(e, SlaAlert)] == ["resolution"]
        async with ms.db.transaction() as uow:
            conversation = await uow.session.get(Conversation, stored.conversation_id)
            assert conversation is not None
            await do_resolve(uow, agent, conversation, assigner=AcdRouter())
        assert await step(61) == []  # resolved before its due time: nothing to escalate
        clock, _ = await row()
        assert not clock.open and clock.resolved_at is not None
        assert (await compute_wallboard(ms.db)).all_queues.sla_breached == 0


async def test_supervisors_hear_a_breach_live_and_the_engine_gets_the_new_priority(
    sqlite_url: str, tmp_path: Path
) -> None:
    live = LiveServer(mail_settings(sqlite_url, tmp_path, sla=SLA, sla_check_s=0.2))
    await seed_agents(live.settings)
    await live.start()
    sam = await login(live.base, "sam@test.example")
    alice = await login(live.base, "alice@test.example")
    try:
        boss, desk = await sam.ws(), await alice.ws()
        mail = live.app.state.mail
        stored = await mail.intake(make_mail(), mail.mailboxes["support"], "smtp")

        async def an_hour_ago(uow: Any) -> None:
            clock = await uow.session.scalar(select(MailSla))
            due = clock.first_response_due - timedelta(hours=1)
            await uow.session.execute(
                update(MailSla).values(
                    received_at=clock.received_at - timedelta(hours=1), first_response_due=due
                )
            )

        await live.runtime.db.run(an_hour_ago)
        frame = await boss.wait_for(lambda f: f["type"] == "sla", timeout=10)
        assert frame["level"] == "breached" and frame["clock"] == "first_response"
        assert frame["conversation_id"] == stored.conversation_id and frame["priority"] == 5
        await boss.wait_for(lambda f: f["type"] == "task" and f["command"] == "set_priority")

        async def engine_knows() -> None:
            engine = live.runtime.leader.engine
            assert engine is not None
            assert [t.priority for t in engine.tasks.values()] == [5]

        await eventually(engine_knows)
        assert desk.of_type("sla") == []  # agents don't get it

        async def on_the_board() -> None:
            board = (await sam.get("/api/v1/wallboard")).json()
            queue = next(q for q in board["queues"] if q["name"] == "E-mail")
            assert (queue["sla_at_risk"], queue["sla_breached"]) == (0, 1)

        await eventually(on_the_board)
        await boss.close()
        await desk.close()
    finally:
        await sam.close()
        await alice.close()
        await live.stop()


async def test_suggestions_come_from_resolved_mail_to_agents_who_may_read_it(
    sqlite_url: str, tmp_path: Path
) -> None:
    reply = "Your refund was sent today; it reaches your card within five days."
    async with mail_store(sqlite_url, tmp_path) as ms:  # history, before the server starts
        await seed_agents(ms.settings)
        agent = await supervisor(ms.db)
        old = await ingest(ms.db, ms.config, make_mail(subject="Refund", text="Where is my "
                           "refund for the returned shoes?"), mailbox=ms.support,
                           source="smtp")  # fmt: skip
        async with ms.db.transaction() as uow:
            conversation = await uow.session.get(Conversation, old.conversation_id)
            assert conversation is not None
            await do_post_message(uow, agent, conversation, client_id="r", body=reply,
                                  attachment_ids=[], max_chars=1000)  # fmt: skip
            await do_resolve(uow, agent, conversation, assigner=AcdRouter())
    live = LiveServer(ms.settings)
    await live.start()
    alice = await login(live.base, "alice@test.example")  # Support: the mail's team
    olga = await login(live.base, "olga@test.example")  # Billing
    try:
        mail = live.app.state.mail
        new = await mail.intake(
            make_mail(sender="bob@other.example", subject="Refund?",
                      text="I returned my shoes, when do I get the refund?"),
            mail.mailboxes["support"], "smtp",
        )  # fmt: skip
        path = f"/api/v1/conversations/{new.conversation_id}/suggestions"

        async def suggested() -> list[dict[str, Any]]:
            r = await alice.get(path)
            assert r.status_code == 200, r.text
            assert r.json(), "the index is built at start"
            return list(r.json())

        found = await eventually(suggested)
        assert found[0] == {"text": reply, "score": found[0]["score"], "source": "reply",
                            "uses": 1}  # fmt: skip
        assert 0.1 <= found[0]["score"] <= 1.0
        assert (await olga.get(path)).status_code == 404  # may not read it: as if absent
        assert (await alice.get(path + "?k=0")).status_code == 422
        assert (
            await alice.get("/api/v1/conversations/" + "x" * 40 + "/suggestions")
        ).status_code == 404
        # Resolved while running: this process indexes its replies too.
        second = "Sorry for the wait, your refund left today."
        sam = await login(live.base, "sam@test.example")
        r = await sam.post(f"/api/v1/conversations/{new.conversation_id}/messages",
                           {"client_id": "s1", "body": second, "attachment_ids": []})  # fmt: skip
        assert r.status_code == 201, r.text
        r = await sam.post(f"/api/v1/conversations/{new.conversation_id}/resolve")
        assert r.status_code == 200, r.text
        await sam.close()

        async def indexed() -> None:
            assert len(live.app.state.mail_replies) == 2

        await eventually(indexed)
    finally:
        await alice.close()
        await olga.close()
        await live.stop()
