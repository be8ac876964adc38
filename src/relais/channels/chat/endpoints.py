"""The visitor's side of the chat channel: the widget's session, pages and offline messages."""

from __future__ import annotations

from fastapi import APIRouter, Request

from relais.channels.chat.page_views import record_page
from relais.contacts.models import Contact
from relais.contacts.schemas import PageIn, VisitorSessionIn, VisitorSessionOut
from relais.contacts.service import (
    check_identity,
    do_identify,
    do_start_visitor,
    visitor_from_token,
)
from relais.conversations import commands
from relais.conversations.schemas import ConversationOut, OfflineMessage
from relais.deps import CurrentVisitor, RuntimeDep, check_visitor_origin, client_address
from relais.identity.service import any_agent_available
from relais.identity.tokens import issue_visitor_token

router = APIRouter(prefix="/visitor", tags=["visitor"])


@router.post("/session")
async def open_session(
    body: VisitorSessionIn, request: Request, runtime: RuntimeDep
) -> VisitorSessionOut:
    """Start or resume a visitor. A valid `identity` (signed by the host site) attaches the
    visitor to its Contact; anything else leaves it anonymous."""
    settings = runtime.settings
    check_visitor_origin(runtime, request.headers.get("origin"))
    await runtime.limiter.hit(
        f"visitor-session:{client_address(request)}", settings.rate_limits.anonymous_per_minute
    )
    identity = check_identity(settings.widget.identity_keys, body.identity)
    async with runtime.db.transaction() as uow:
        visitor = await visitor_from_token(uow.session, settings.secret_key, body.token)
        if visitor is None:
            visitor = await do_start_visitor(
                uow.session, lang=body.lang, user_agent=request.headers.get("user-agent")
            )
            token = issue_visitor_token(
                settings.secret_key, visitor.id, days=settings.widget.visitor_token_days
            )
        else:
            token = body.token or ""
            visitor.lang = body.lang
        contact: Contact | None = None
        if identity is not None:
            contact = await do_identify(uow.session, visitor, identity)
        elif visitor.contact_id:
            contact = await uow.session.get(Contact, visitor.contact_id)
        online = await any_agent_available(uow.session)
        return VisitorSessionOut(
            token=token,
            visitor_id=visitor.id,
            identified=contact is not None,
            contact_name=contact.name if contact else None,
            agents_online=online,
        )


@router.post("/pages", status_code=204)
async def page_viewed(body: PageIn, visitor: CurrentVisitor, runtime: RuntimeDep) -> None:
    """The page the visitor is on now (the widget also sends it over the WebSocket)."""
    await record_page(runtime.db, visitor, body.url, body.title)


@router.post("/offline-messages", status_code=201)
async def leave_message(
    body: OfflineMessage, request: Request, visitor: CurrentVisitor, runtime: RuntimeDep
) -> ConversationOut:
    """Nobody is online: the message becomes a conversation that waits for an agent."""
    await runtime.limiter.hit(
        f"offline:{client_address(request)}", runtime.settings.rate_limits.anonymous_per_minute
    )
    return await commands.start_conversation(
        runtime.db,
        visitor,
        client_id=body.client_id,
        body=body.body,
        max_chars=runtime.settings.chat.max_message_chars,
        team_id=runtime.default_team_id,
        assigner=runtime.assigner,
        reply_to_email=body.email.strip().lower(),
        claimed_name=body.name.strip(),
    )
