"""The message path's direct statements give what SQLAlchemy gives, on each database."""

from __future__ import annotations

from relais.conversations.models import Conversation
from relais.conversations.repository import _CONVERSATION_BY_ID
from relais.conversations.service import _NEXT_SEQ
from relais.core import fast_sql
from relais.core.bus import MemoryBus
from relais.core.clock import utcnow
from relais.core.db import Database
from relais.identity.models import Team


async def test_rows_and_types_match_sqlalchemys(database_url: str) -> None:
    db = Database(database_url, MemoryBus())
    try:
        async with db.transaction() as uow:
            team = Team(name="fast")
            uow.session.add(team)
            await uow.session.flush()
            conversation = Conversation(team_id=team.id, status="open", channel="chat")
            uow.session.add(conversation)
        async with db.transaction() as uow:
            params = {"p_id": conversation.id}
            direct = await fast_sql.fetch(uow.session, _CONVERSATION_BY_ID, params)
            connection = await uow.session.connection()
            through = [
                dict(r._mapping) for r in await connection.execute(_CONVERSATION_BY_ID, params)
            ]
            assert direct == through and direct[0]["created_at"].tzinfo is not None
            assert await fast_sql.fetch(uow.session, _CONVERSATION_BY_ID, {"p_id": "nope"}) == []

            now = utcnow()
            moved = await fast_sql.fetch(
                uow.session,
                _NEXT_SEQ["visitor"],
                {"p_id": conversation.id, "p_status": "pending", "p_now": now},
            )
            assert moved == [{"last_seq": 1}]
            again = await fast_sql.fetch(uow.session, _CONVERSATION_BY_ID, params)
            assert again[0]["updated_at"] == now and again[0]["visitor_read_seq"] == 1
        async with db.transaction(write=False) as uow:
            stored = await uow.session.get(Conversation, conversation.id)
            assert stored is not None and (stored.last_seq, stored.status) == (1, "pending")
    finally:
        await db.dispose()
