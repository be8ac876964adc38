"""Where the visitor is: stored, and shown live to the agents of its open conversation."""

from __future__ import annotations

from relais.contacts.service import check_page, do_record_page
from relais.conversations.events import VisitorPageViewed
from relais.conversations.repository import open_conversation_of, ref_of
from relais.core.db import Database
from relais.identity.principals import VisitorPrincipal


async def record_page(db: Database, visitor: VisitorPrincipal, url: str, title: str) -> None:
    url, title = check_page(url, title)
    async with db.transaction() as uow:
        view = await do_record_page(uow.session, visitor.visitor_id, url, title)
        conversation = await open_conversation_of(uow.session, visitor.visitor_id)
        if conversation is not None:
            uow.emit(
                VisitorPageViewed(
                    ref=ref_of(conversation), url=url, title=title, at=view.started_at
                )
            )
