"""Customers (contacts), the browsers they use (visitors) and the pages they visit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from relais.core.clock import utcnow
from relais.core.db import Base, UTCDateTime
from relais.core.ids import new_id


class Contact(Base):
    __tablename__ = "contacts"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    # The customer's id in the company's own systems (CRM, shop); set only from verified identity.
    external_id: Mapped[str | None] = mapped_column(String(200), unique=True, default=None)
    name: Mapped[str | None] = mapped_column(String(200), default=None)
    emails: Mapped[list[str]] = mapped_column(JSON, default=list)
    phones: Mapped[list[str]] = mapped_column(JSON, default=list)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Visitor(Base):
    """One browser. Anonymous until the host site vouches for who it is (signed identity)."""

    __tablename__ = "visitors"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    contact_id: Mapped[str | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), index=True, default=None
    )
    # What the visitor told us about themselves, unverified: shown as such, never merged.
    claimed_name: Mapped[str | None] = mapped_column(String(200), default=None)
    claimed_email: Mapped[str | None] = mapped_column(String(254), default=None)
    lang: Mapped[str] = mapped_column(String(8), default="en")
    user_agent: Mapped[str | None] = mapped_column(String(400), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PageView(Base):
    __tablename__ = "page_views"
    __table_args__ = (Index("ix_page_views_visitor_started", "visitor_id", "started_at"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    visitor_id: Mapped[str] = mapped_column(ForeignKey("visitors.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2000))
    title: Mapped[str] = mapped_column(String(300), default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when the next page starts; time on page = ended_at - started_at.
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
