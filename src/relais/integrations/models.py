"""The webhook outbox: one row per event to deliver, and how far task events were read.

A delivery is written by the process holding the "webhooks" lease, from the recorded task
transitions (``task_events``), never by the routing code: routing writes nothing more and waits
for nothing. The row keeps the exact body, so every attempt sends the same bytes under the same
``webhook-id`` (receivers deduplicate by it).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from relais.core.clock import utcnow
from relais.core.db import Base, UTCDateTime
from relais.core.ids import new_id


def new_message_id() -> str:
    return f"msg_{new_id()}"


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_state_next", "state", "next_attempt_at"),
        Index("ix_webhook_deliveries_task", "task_id"),
    )
    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=new_message_id)
    # The transition it tells of: one delivery per transition, however often it is read.
    task_event_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    event_type: Mapped[str] = mapped_column(String(40))
    task_id: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    # pending -> delivered | failed (gave up after the last attempt)
    state: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_status: Mapped[int | None] = mapped_column(Integer, default=None)
    last_error: Mapped[str | None] = mapped_column(String(500), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class WebhookCursor(Base):
    """The last task event every earlier one of which has been turned into deliveries."""

    __tablename__ = "webhook_cursors"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_event_id: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
