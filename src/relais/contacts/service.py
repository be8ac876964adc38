"""Visitors and contacts: who is on the site, who they are once the site vouches for them."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from relais.contacts.models import Contact, PageView, Visitor
from relais.core.clock import utcnow
from relais.core.errors import Invalid
from relais.identity.tokens import (
    InvalidToken,
    SiteIdentity,
    read_site_identity,
    read_visitor_token,
)


async def visitor_from_token(
    session: AsyncSession, secret: str, token: str | None
) -> Visitor | None:
    if not token:
        return None
    try:
        visitor_id = read_visitor_token(secret, token)
    except InvalidToken:
        return None
    return await session.get(Visitor, visitor_id)


def check_identity(keys: dict[str, str], token: str | None) -> SiteIdentity | None:
    """A verified identity, or None: a claim without a valid signature counts for nothing."""
    if not token:
        return None
    try:
        return read_site_identity(keys, token)
    except InvalidToken:
        return None


async def do_identify(session: AsyncSession, visitor: Visitor, identity: SiteIdentity) -> Contact:
    """Attach the visitor to the Contact with this external id (created on first sight)."""
    contact = await session.scalar(
        select(Contact).where(Contact.external_id == identity.external_id)
    )
    if contact is None:
        contact = Contact(external_id=identity.external_id, name=identity.name, emails=[])
        session.add(contact)
    if identity.name and not contact.name:
        contact.name = identity.name
    if identity.email and identity.email.lower() not in contact.emails:
        contact.emails = [*contact.emails, identity.email.lower()]
    await session.flush()
    if visitor.contact_id != contact.id:
        visitor.contact_id = contact.id
    return contact


async def do_start_visitor(session: AsyncSession, *, lang: str, user_agent: str | None) -> Visitor:
    visitor = Visitor(lang=lang, user_agent=(user_agent or "")[:400] or None)
    session.add(visitor)
    await session.flush()
    return visitor


def check_page(url: str, title: str) -> tuple[str, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise Invalid("A page URL must be an http(s) URL.")
    return url[:2000], title[:300]


async def do_record_page(session: AsyncSession, visitor_id: str, url: str, title: str) -> PageView:
    now = utcnow()
    await session.execute(
        update(PageView)
        .where(PageView.visitor_id == visitor_id, PageView.ended_at.is_(None))
        .values(ended_at=now)
    )
    view = PageView(visitor_id=visitor_id, url=url, title=title, started_at=now)
    session.add(view)
    await session.execute(update(Visitor).where(Visitor.id == visitor_id).values(last_seen_at=now))
    await session.flush()
    return view


async def page_path(session: AsyncSession, visitor_id: str, limit: int = 50) -> list[PageView]:
    rows = await session.scalars(
        select(PageView)
        .where(PageView.visitor_id == visitor_id)
        .order_by(PageView.started_at.desc())
        .limit(limit)
    )
    return list(reversed(rows.all()))
