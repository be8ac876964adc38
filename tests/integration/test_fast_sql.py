"""The message path's direct statements give what SQLAlchemy gives, on each database."""

from __future__ import annotations

import subprocess
import sys

from relais.conversations.models import Conversation
from relais.conversations.repository import _CONVERSATION_BY_ID
from relais.conversations.service import _NEXT_SEQ
from relais.core import fast_sql
from relais.core.bus import MemoryBus
from relais.core.clock import utcnow
from relais.core.db import Database
from relais.identity.models import Team


async def _open_conversation(db: Database, team_name: str) -> Conversation:
    async with db.transaction() as uow:
        team = Team(name=team_name)
        uow.session.add(team)
        await uow.session.flush()
        conversation = Conversation(team_id=team.id, status="open", channel="chat")
        uow.session.add(conversation)
    return conversation


async def test_rows_and_types_match_sqlalchemys(database_url: str) -> None:
    db = Database(database_url, MemoryBus())
    try:
        conversation = await _open_conversation(db, "fast")
        async with db.transaction() as uow:
            params = {"p_id": conversation.id}
            direct = await fast_sql.fetch(uow, _CONVERSATION_BY_ID, params)
            connection = await uow.session.connection()
            through = [
                dict(r._mapping) for r in await connection.execute(_CONVERSATION_BY_ID, params)
            ]
            assert direct == through and direct[0]["created_at"].tzinfo is not None
            assert await fast_sql.fetch(uow, _CONVERSATION_BY_ID, {"p_id": "nope"}) == []

            now = utcnow()
            moved = await fast_sql.fetch(
                uow,
                _NEXT_SEQ["visitor", True],
                {"p_id": conversation.id, "p_status": "pending", "p_now": now},
            )
            assert moved == [{"last_seq": 1}]
            again = await fast_sql.fetch(uow, _CONVERSATION_BY_ID, params)
            assert again[0]["updated_at"] == now and again[0]["visitor_read_seq"] == 1
        async with db.transaction(write=False) as uow:
            stored = await uow.session.get(Conversation, conversation.id)
            assert stored is not None and (stored.last_seq, stored.status) == (1, "pending")
    finally:
        await db.dispose()


def test_a_process_whose_first_read_is_the_hot_path_gets_a_working_conversation() -> None:
    # The loaded conversation is filled without the ORM's constructor; in a fresh interpreter
    # nothing has configured the mappers yet, so the hot path must (it once failed with an
    # AttributeError on the first message of a process that had run no ORM query before).
    script = (
        "from relais.conversations.repository import _detached\n"
        "c = _detached({'id': 'c1', 'status': 'open', 'team_id': 't1'})\n"
        "print(c.id, c.status, c.team_id)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["c1", "open", "t1"]


async def test_a_message_keeps_a_status_changed_in_memory_and_not_yet_flushed(
    database_url: str,
) -> None:
    # The sequence UPDATE writes the status only when it changes; "changes" must count a status
    # set on the object and not flushed yet, or the message would mark it saved and lose it.
    from relais.conversations.service import _insert_message

    db = Database(database_url, MemoryBus())
    try:
        conversation = await _open_conversation(db, "status")
        for direct in (False, True):
            async with db.transaction(direct=direct) as uow:
                loaded = await uow.session.get(Conversation, conversation.id)
                assert loaded is not None
                loaded.status = "pending" if loaded.status == "open" else "open"
                await _insert_message(
                    uow, loaded, author_kind="agent", author_id=None, author_name="Alice",
                    body="hello", client_id=None, status=loaded.status,
                )  # fmt: skip
                expected = loaded.status
            async with db.transaction(write=False) as uow:
                stored = await uow.session.get(Conversation, conversation.id)
                assert stored is not None and stored.status == expected
    finally:
        await db.dispose()
