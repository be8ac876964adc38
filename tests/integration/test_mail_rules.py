"""Triage rules as data: the admin's API (read, save with a version, dry run), and the intake
applying the stored rules, refreshed in every process when an admin saves."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from relais.app import decode_event
from relais.channels.email.ingest import ingest
from relais.channels.email.models import MailRuleSet
from relais.channels.email.rule_store import RuleStore, do_save_rules
from relais.channels.email.rules import RuleSet
from relais.core.bus import MemoryBus, RedisBus
from relais.core.db import Database
from relais.identity.service import do_create_agent
from relais.routing.models import Queue, Task
from tests.conftest import REDIS_URL, LiveServer, need, postgres_database
from tests.helpers import PASSWORD, Agent, eventually, login, seed_agents
from tests.integration.mail_helpers import mail_settings, mail_store, make_mail

SEED: dict[str, Any] = {
    "rules": [
        {"id": "invoices", "name": "Invoices", "when": {"kind": "text", "field": "subject",
         "op": "word", "values": ["invoice"]}, "then": [{"kind": "set_queue", "queue": "Billing"}]},
    ]
}  # fmt: skip
REFUNDS: dict[str, Any] = {
    "id": "refunds", "name": "Refunds",
    "when": {"kind": "text", "field": "subject_or_body", "op": "regex",
             "values": ["refund(s|ed)?"]},
    "then": [{"kind": "add_tags", "tags": ["refund"]}, {"kind": "set_priority", "priority": 7}],
}  # fmt: skip


@pytest.fixture
async def admin_server(database_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    live = LiveServer(mail_settings(database_url, tmp_path, triage_rules=SEED))
    await seed_agents(live.settings)
    db = Database(live.settings.database_url, MemoryBus())
    async with db.transaction() as uow:
        await do_create_agent(uow.session, email="ada@test.example", name="Ada",
                              password=PASSWORD, role="admin", teams=[])  # fmt: skip
    await db.dispose()
    await live.start()
    try:
        yield live
    finally:
        await live.stop()


async def _admin(live: LiveServer) -> Agent:
    return await login(live.base, "ada@test.example")


async def test_the_setting_seeds_the_rules_and_a_save_names_the_version_it_read(
    admin_server: LiveServer,
) -> None:
    ada, other = await _admin(admin_server), await _admin(admin_server)
    try:
        seeded = (await ada.get("/api/v1/mail/rules")).json()
        assert seeded["version"] == 0 and [r["id"] for r in seeded["rules"]] == ["invoices"]
        rules = [*seeded["rules"], REFUNDS]
        saved = await ada.put("/api/v1/mail/rules", {"version": 0, "rules": rules})
        assert saved.status_code == 200, saved.text
        assert saved.json()["version"] == 1 and saved.json()["updated_by"] == ada.id
        # The other admin read version 0 too: refused, and the first save stands.
        late = await other.put("/api/v1/mail/rules", {"version": 0, "rules": []})
        assert late.status_code == 409 and late.json()["error"]["code"] == "rules_changed"
        now = (await other.get("/api/v1/mail/rules")).json()
        assert now["version"] == 1 and [r["id"] for r in now["rules"]] == ["invoices", "refunds"]
        again = await other.put("/api/v1/mail/rules", {"version": 1, "rules": [REFUNDS]})
        assert again.status_code == 200 and again.json()["version"] == 2
    finally:
        await ada.close()
        await other.close()


@pytest.mark.parametrize(
    ("rules", "where"),
    [
        ([{**REFUNDS, "when": {**REFUNDS["when"], "values": ["(a+)\\1"]}}], "rules"),  # RE2
        ([REFUNDS, REFUNDS], "rules"),  # two rules, one id
        ([{**REFUNDS, "then": [{"kind": "set_priority", "priority": 1000}]}], "priority"),
        ([{**REFUNDS, "surprise": 1}], "surprise"),
    ],
)
async def test_a_bad_rule_set_is_refused_with_its_place_and_nothing_changes(
    admin_server: LiveServer, rules: list[dict[str, Any]], where: str
) -> None:
    ada = await _admin(admin_server)
    try:
        r = await ada.put("/api/v1/mail/rules", {"version": 0, "rules": rules})
        assert r.status_code == 422, r.text
        assert any(where in ".".join(d["loc"]) for d in r.json()["error"]["details"]), r.text
        assert (await ada.get("/api/v1/mail/rules")).json()["version"] == 0
    finally:
        await ada.close()


async def test_only_admins_see_or_change_the_rules(admin_server: LiveServer) -> None:
    for email in ("sam@test.example", "alice@test.example"):  # a supervisor, an agent
        agent = await login(admin_server.base, email)
        try:
            assert (await agent.get("/api/v1/mail/rules")).status_code == 403
            put = await agent.put("/api/v1/mail/rules", {"version": 0, "rules": []})
            assert put.status_code == 403
            dry = await agent.post("/api/v1/mail/rules/dry-run", {"facts": {"subject": "x"}})
            assert dry.status_code == 403
        finally:
            await agent.close()
    stored = await admin_server.runtime.db.run(lambda uow: uow.session.scalar(select(MailRuleSet)))
    assert stored is None


async def test_a_dry_run_explains_every_rule_on_a_raw_mail_or_on_facts(
    admin_server: LiveServer,
) -> None:
    ada = await _admin(admin_server)
    try:
        raw = make_mail(subject="Invoice 12 and a refund please", text="I want a refund.")
        r = await ada.post("/api/v1/mail/rules/dry-run", {
            "raw": raw.decode(), "rules": [*SEED["rules"], REFUNDS],
        })  # fmt: skip
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["result"]["queue"] == "Billing" and body["result"]["tags"] == ["refund"]
        assert [t["status"] for t in body["rules"]] == ["fired", "fired"]
        assert body["facts"]["language"] == "en" and body["facts"]["sender"] == (
            "claire@client.example"
        )
        # The stored rules by default (the seed: no refund rule), on facts typed by hand.
        facts = await ada.post("/api/v1/mail/rules/dry-run", {"facts": {"subject": "Refund"}})
        assert facts.json()["rules"][0]["status"] == "did not match"
        assert facts.json()["rules"][0]["condition"]["detail"] == "subject word 'invoice'"
        # Hostile: both samples, neither, oversized facts; and a 1 MiB body runs in linear time.
        for bad in ({}, {"raw": "x", "facts": {}}, {"facts": {"body": "x" * (1 << 21)}},
                    {"facts": {"subject": "x", "extra": 1}}):  # fmt: skip
            assert (await ada.post("/api/v1/mail/rules/dry-run", bad)).status_code == 422
        hostile = {"facts": {"body": "a" * (1 << 20)}, "rules": [REFUNDS]}
        r = await ada.post("/api/v1/mail/rules/dry-run", hostile)
        assert r.status_code == 200 and r.json()["result"]["fired"] == []
        assert (await ada.get("/api/v1/mail/rules")).json()["version"] == 0  # wrote nothing
    finally:
        await ada.close()


async def test_the_intake_applies_the_rules_an_admin_saves_from_the_next_mail(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with mail_store(sqlite_url, tmp_path, triage_rules=SEED) as ms:
        ms.bus.subscribe(ms.config.rules.on_event)
        async with ms.db.transaction() as uow:
            uow.session.add(Queue(name="Billing", channels=["email"], team_ids=[ms.team_id]))
        first = await ingest(ms.db, ms.config, make_mail(subject="Invoice 1"),
                             mailbox=ms.support, source="smtp")  # fmt: skip
        new = RuleSet.model_validate({"rules": [REFUNDS]})
        await ms.db.run(lambda uow: do_save_rules(uow, new, version=0, agent_id=None))
        second = await ingest(ms.db, ms.config, make_mail(subject="Invoice 2, refund"),
                              mailbox=ms.support, source="smtp")  # fmt: skip
        async with ms.db.transaction(write=False) as uow:
            tasks = {t.conversation_id: t for t in (await uow.session.scalars(select(Task)))}
            billing = await uow.session.scalar(select(Queue.id).where(Queue.name == "Billing"))
        assert tasks[first.conversation_id].queue_id == billing
        later = tasks[second.conversation_id]
        assert (later.queue_id, later.priority, later.attributes["tags"]) == (
            ms.support.queue_id, 7, ["refund"],
        )  # fmt: skip


async def test_a_process_that_missed_the_event_reads_the_rules_again_within_its_recheck(
    sqlite_url: str,
) -> None:
    now = [0.0]
    db = Database(sqlite_url, MemoryBus())  # nobody subscribes the store: the event is lost
    store = RuleStore(RuleSet.model_validate(SEED), recheck_s=30, clock=lambda: now[0])
    try:
        async with db.transaction(write=False) as uow:
            assert [r.id for r in (await store.current(uow.session)).rules] == ["invoices"]
        new = RuleSet.model_validate({"rules": [REFUNDS]})
        await db.run(lambda uow: do_save_rules(uow, new, version=0, agent_id=None))
        now[0] = 29.0
        async with db.transaction(write=False) as uow:
            assert [r.id for r in (await store.current(uow.session)).rules] == ["invoices"]
        now[0] = 30.0
        async with db.transaction(write=False) as uow:
            assert [r.id for r in (await store.current(uow.session)).rules] == ["refunds"]
        assert store.version == 1
    finally:
        await db.dispose()


async def test_a_save_in_one_process_reaches_the_others_over_redis(tmp_path: Path) -> None:
    need(REDIS_URL is not None, "RELAIS_TEST_REDIS_URL is not set (Redis)")
    assert REDIS_URL is not None
    async with postgres_database() as url:
        one, two = RedisBus(REDIS_URL, decode_event), RedisBus(REDIS_URL, decode_event)
        db_one, db_two = Database(url, one), Database(url, two)
        store = RuleStore(RuleSet.model_validate(SEED), recheck_s=math.inf)
        two.subscribe(store.on_event)
        await one.start()
        await two.start()
        try:
            async with db_two.transaction(write=False) as uow:
                await store.current(uow.session)
            new = RuleSet.model_validate({"rules": [REFUNDS]})
            await db_one.run(lambda uow: do_save_rules(uow, new, version=0, agent_id=None))

            async def refreshed() -> None:
                async with db_two.transaction(write=False) as uow:
                    assert [r.id for r in (await store.current(uow.session)).rules] == ["refunds"]

            await eventually(refreshed)
        finally:
            await one.stop()
            await two.stop()
            await db_one.dispose()
            await db_two.dispose()
