"""The callback channel's tables: each request (the number, why, the consent, the slot) and each
attempt to call it (who, the call's id, the outcome). The task of the universal queue that
routes the request lives in ``tasks``; a request points to it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from relais.core.clock import utcnow
from relais.core.db import Base, UTCDateTime
from relais.core.ids import new_id


class CallbackRequest(Base):
    __tablename__ = "callback_requests"
    __table_args__ = (
        # The rate limits count recent requests by visitor, by number and by address.
        Index("ix_callback_requests_visitor_created", "visitor_id", "created_at"),
        Index("ix_callback_requests_number_created", "number", "created_at"),
        Index("ix_callback_requests_ip_created", "ip_hash", "created_at"),
    )
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id"), unique=True)
    queue_id: Mapped[str] = mapped_column(String(32))
    visitor_id: Mapped[str] = mapped_column(ForeignKey("visitors.id", ondelete="CASCADE"))
    conversation_id: Mapped[str | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), default=None
    )
    number: Mapped[str] = mapped_column(String(16))  # E.164
    reason: Mapped[str] = mapped_column(String(500), default="")
    lang: Mapped[str] = mapped_column(String(8), default="en")
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    slot_start: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    slot_end: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    page_url: Mapped[str | None] = mapped_column(String(2000), default=None)
    page_title: Mapped[str | None] = mapped_column(String(500), default=None)
    # A keyed hash of the requester's IP address: enough to count, not to find anyone.
    ip_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(20), default="open")  # domain.CallbackState
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # reached, wrong_number, unreachable, or cancelled (by the visitor or with the task).
    outcome: Mapped[str | None] = mapped_column(String(20), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class CallbackAttempt(Base):
    """One call of a request: started when the agent dials, ended by the outcome recorded."""

    __tablename__ = "callback_attempts"
    __table_args__ = (UniqueConstraint("callback_id", "number"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    callback_id: Mapped[str] = mapped_column(ForeignKey("callback_requests.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, … of this request
    agent_id: Mapped[str] = mapped_column(String(32))
    call_ref: Mapped[str] = mapped_column(String(200))  # what the Dialler returned
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(20), default=None)  # domain.Outcome
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
