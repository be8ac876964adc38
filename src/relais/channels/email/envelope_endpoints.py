"""``GET /api/v1/conversations/{id}/mail``: an e-mail conversation's thread and envelopes, for
the desk (docs/api.md, "E-mail conversations")."""

from __future__ import annotations

from fastapi import APIRouter

from relais.channels.email.envelopes import MailThreadOut, mail_thread_out
from relais.conversations.repository import get_readable
from relais.core.errors import NotFound
from relais.deps import CurrentAgent, RuntimeDep

router = APIRouter(prefix="/conversations", tags=["e-mail"])


@router.get("/{conversation_id}/mail")
async def conversation_mail(
    conversation_id: str, agent: CurrentAgent, runtime: RuntimeDep
) -> MailThreadOut:
    """The `[#n]`, the subject and address an answer goes out with, and for each message its
    from, to, date and subject, and for an answer its mail's state (queued, sent, failed,
    bounced). 404 for a conversation the agent may not read, and for one with no mail."""
    async with runtime.db.transaction(write=False) as uow:
        await get_readable(uow.session, agent, conversation_id)
        out = await mail_thread_out(uow.session, conversation_id)
    if out is None:
        raise NotFound("This conversation has no e-mail.", code="no_mail_thread")
    return out
