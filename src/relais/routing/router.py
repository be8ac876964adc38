"""The ACD's side of conversations: a new one becomes a task of its queue, a resolved one ends
its task. Implements ``relais.conversations.service.Assigner``."""

from __future__ import annotations

from sqlalchemy import select

from relais.contacts.models import PageView, Visitor
from relais.conversations.models import Conversation
from relais.core.db import UnitOfWork
from relais.routing.models import Queue
from relais.routing.service import do_complete_for_conversation, do_create_task, rules_of


class AcdRouter:
    def __init__(self) -> None:
        self.default_queue_id = ""  # set at start-up (app lifespan), like the default team

    async def route(self, uow: UnitOfWork, conversation: Conversation) -> None:
        queue = await uow.session.get(Queue, self.default_queue_id)
        if queue is None:
            raise RuntimeError("the default queue is not set up")
        requirements: dict[str, int] = {}
        attributes: dict[str, object] = {}
        if conversation.visitor_id is not None:
            visitor = await uow.session.get(Visitor, conversation.visitor_id)
            if visitor is not None:
                attributes["language"] = visitor.lang
                if rules_of(queue).route_by_language:
                    requirements[f"lang:{visitor.lang}"] = 1
            page = await uow.session.scalar(
                select(PageView)
                .where(PageView.visitor_id == conversation.visitor_id)
                .order_by(PageView.started_at.desc())
                .limit(1)
            )
            if page is not None:
                attributes["page_url"], attributes["page_title"] = page.url, page.title
        await do_create_task(
            uow,
            channel=conversation.channel,
            queue=queue,
            conversation_id=conversation.id,
            contact_id=conversation.contact_id,
            visitor_id=conversation.visitor_id,
            requirements=requirements,
            attributes=attributes,
        )

    async def resolved(self, uow: UnitOfWork, conversation: Conversation) -> None:
        await do_complete_for_conversation(uow, conversation.id)
