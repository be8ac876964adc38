"""``GET /api/v1/conversations/{id}/suggestions``: answers to propose for the customer's last
message, from past agent replies of resolved e-mail conversations (suggestions.py; docs/api.md,
"Suggested answers"). Agents who may read the conversation only, with the same check as its
messages."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from sqlalchemy import select

from relais.channels.email.body import split_quoted
from relais.channels.email.models import MailThread
from relais.channels.email.suggestions import MAX_QUESTION, ReplyIndex
from relais.conversations.models import Message
from relais.conversations.repository import get_readable
from relais.deps import CurrentAgent, RuntimeDep

router = APIRouter(prefix="/conversations", tags=["e-mail"])


class SuggestionOut(BaseModel):
    text: str
    score: float  # cosine similarity in [0, 1]
    source: Literal["reply", "article"]
    uses: int  # how many past mails got this same reply


def reply_index(request: Request) -> ReplyIndex | None:
    index: ReplyIndex | None = getattr(request.app.state, "mail_replies", None)
    return index


@router.get("/{conversation_id}/suggestions")
async def suggestions(
    conversation_id: str,
    request: Request,
    agent: CurrentAgent,
    runtime: RuntimeDep,
    k: Annotated[int, Query(ge=1, le=10)] = 3,
) -> list[SuggestionOut]:
    """The ``k`` best answers to the customer's last message, best first; empty when nothing
    similar was answered before."""
    async with runtime.db.transaction(write=False) as uow:
        conversation = await get_readable(uow.session, agent, conversation_id)
        last = await uow.session.scalar(
            select(Message.body)
            .where(Message.conversation_id == conversation.id, Message.author_kind == "visitor")
            .order_by(Message.seq.desc())
            .limit(1)
        )
        language = await uow.session.scalar(
            select(MailThread.language).where(MailThread.conversation_id == conversation.id)
        )
    index = reply_index(request)
    if last is None or index is None:
        return []
    text = last[:MAX_QUESTION]
    question = split_quoted(text).new_text or text  # the customer's new words, not the quote
    found = index.suggest(conversation.subject or "", question, k=k, language=language)
    return [
        SuggestionOut(
            text=s.text,
            score=round(s.score, 4),
            source="article" if s.source == "article" else "reply",
            uses=s.uses,
        )
        for s in found
    ]
