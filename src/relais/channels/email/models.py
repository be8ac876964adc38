"""The e-mail channel's tables: mailboxes and their IMAP cursors, mail in and out, threads.

Raw sources are not in these rows: they are files of the attachment store (``raw_key``), like
attachments, so that the database stays small and a better parser can read them again later
(docs/architecture.md, "The e-mail channel").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from relais.core.clock import utcnow
from relais.core.db import Base, UTCDateTime
from relais.core.ids import new_id

# RFC 5322 caps a line at 998 characters; parse.normalise_message_id keeps ids under 902.
MESSAGE_ID_LENGTH = 1000
ADDRESS_LENGTH = 320


class Mailbox(Base):
    """An address mail arrives at, the queue its new conversations go to, and how far the IMAP
    fetcher has read. UIDs only mean something within one UIDVALIDITY (RFC 3501 §2.3.1.1): when
    the server changes it, the cursor starts again from zero and Message-IDs catch repeats."""

    __tablename__ = "mailboxes"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    address: Mapped[str] = mapped_column(String(ADDRESS_LENGTH))
    queue_id: Mapped[str] = mapped_column(ForeignKey("queues.id"))
    imap_uidvalidity: Mapped[int | None] = mapped_column(BigInteger, default=None)
    imap_last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MailThread(Base):
    """A conversation that speaks e-mail: its number (the ``[#n]`` of subjects), whom to answer,
    and how far its agents' messages have been turned into outbound mail (``sent_seq``)."""

    __tablename__ = "mail_threads"
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), unique=True
    )
    mailbox_id: Mapped[str | None] = mapped_column(
        ForeignKey("mailboxes.id", ondelete="SET NULL"), default=None
    )
    subject: Mapped[str] = mapped_column(String(1000), default="")
    customer_address: Mapped[str] = mapped_column(String(ADDRESS_LENGTH))
    customer_name: Mapped[str | None] = mapped_column(String(200), default=None)
    language: Mapped[str] = mapped_column(String(8), default="en")
    sent_seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the intent model learnt from this conversation once resolved (automation.py): once.
    learned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class MailAddress(Base):
    """Which Contact an address belongs to: the primary key makes two mails from a new sender,
    stored at once, find one Contact (the loser's transaction runs again and finds it)."""

    __tablename__ = "mail_addresses"
    address: Mapped[str] = mapped_column(String(ADDRESS_LENGTH), primary_key=True)
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InboundMail(Base):
    """One message received, whatever became of it. ``message_id`` is unique: the same message
    fetched twice, from IMAP and SMTP, or imported again, is stored once."""

    __tablename__ = "inbound_mails"
    __table_args__ = (
        Index("ix_inbound_mails_conversation", "conversation_id"),
        Index("ix_inbound_mails_from_address", "from_address"),
    )
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    message_id: Mapped[str] = mapped_column(String(MESSAGE_ID_LENGTH), unique=True)
    message_id_synthetic: Mapped[bool] = mapped_column(default=False)
    mailbox_id: Mapped[str | None] = mapped_column(
        ForeignKey("mailboxes.id", ondelete="SET NULL"), default=None
    )
    source: Mapped[str] = mapped_column(String(10))  # imap, smtp, lmtp, import
    imap_uid: Mapped[int | None] = mapped_column(BigInteger, default=None)
    raw_key: Mapped[str | None] = mapped_column(String(100), default=None)
    raw_size: Mapped[int] = mapped_column(Integer, default=0)
    raw_sha256: Mapped[str] = mapped_column(String(64))
    from_address: Mapped[str | None] = mapped_column(String(ADDRESS_LENGTH), default=None)
    from_name: Mapped[str | None] = mapped_column(String(200), default=None)
    to_addresses: Mapped[list[str]] = mapped_column(JSON, default=list)
    cc_addresses: Mapped[list[str]] = mapped_column(JSON, default=list)
    subject: Mapped[str] = mapped_column(String(1000), default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)  # Date: header
    in_reply_to: Mapped[str | None] = mapped_column(String(MESSAGE_ID_LENGTH), default=None)
    references: Mapped[list[str]] = mapped_column(JSON, default=list)
    automatic_kind: Mapped[str] = mapped_column(String(20), default="none")
    automatic_reason: Mapped[str | None] = mapped_column(String(200), default=None)
    language: Mapped[str | None] = mapped_column(String(8), default=None)
    defects: Mapped[list[str]] = mapped_column(JSON, default=list)
    # routed (new conversation and task), threaded (into a conversation), automatic, bounce,
    # unreadable (stored raw: something failed past the parser; ``error`` says what).
    state: Mapped[str] = mapped_column(String(20))
    error: Mapped[str | None] = mapped_column(Text, default=None)
    conversation_id: Mapped[str | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), default=None
    )
    conversation_message_id: Mapped[str | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"), default=None
    )
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboundMail(Base):
    """One message to send, and the outbox entry that sends it: written in the transaction that
    decides it, sent after, retried with back-off until the server takes it (never lost)."""

    __tablename__ = "outbound_mails"
    __table_args__ = (
        Index("ix_outbound_mails_state_next", "state", "next_attempt_at"),
        Index("ix_outbound_mails_recipient_kind", "recipient", "kind", "created_at"),
        Index("ix_outbound_mails_conversation", "conversation_id"),
    )
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    message_id: Mapped[str] = mapped_column(String(MESSAGE_ID_LENGTH), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # reply, acknowledgement, transcript
    mailbox_id: Mapped[str | None] = mapped_column(
        ForeignKey("mailboxes.id", ondelete="SET NULL"), default=None
    )
    conversation_id: Mapped[str | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), default=None
    )
    # The agent's message this mail carries: one mail per message, however often it is fed.
    conversation_message_id: Mapped[str | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"), unique=True, default=None
    )
    transcript_request_id: Mapped[str | None] = mapped_column(
        ForeignKey("transcript_requests.id", ondelete="SET NULL"), unique=True, default=None
    )
    inbound_mail_id: Mapped[str | None] = mapped_column(
        ForeignKey("inbound_mails.id", ondelete="SET NULL"), default=None
    )
    sender: Mapped[str] = mapped_column(String(ADDRESS_LENGTH))
    recipient: Mapped[str] = mapped_column(String(ADDRESS_LENGTH))
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    subject: Mapped[str] = mapped_column(String(1000), default="")
    in_reply_to: Mapped[str | None] = mapped_column(String(MESSAGE_ID_LENGTH), default=None)
    references: Mapped[list[str]] = mapped_column(JSON, default=list)
    raw_key: Mapped[str] = mapped_column(String(100))
    raw_size: Mapped[int] = mapped_column(Integer, default=0)
    # queued -> sent | failed (refused for good); sent -> bounced (a delivery report came back)
    state: Mapped[str] = mapped_column(String(20), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    bounce: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class MailRuleSet(Base):
    """The admin's triage rules (``rules.RuleSet`` as JSON). A save names the ``version`` it
    read and is refused if another came first: two admins never overwrite each other silently.
    Without a row the setting's rules (``RELAIS_MAIL__TRIAGE_RULES``) apply, as version 0."""

    __tablename__ = "mail_rule_sets"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(32), default=None)


class MailModel(Base):
    """A learnt model as JSON (``intent.IntentModel.to_json``), never pickled: data, not code."""

    __tablename__ = "mail_models"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    data: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    examples: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MailSla(Base):
    """The service-level clocks of one e-mail task (``sla.py``): due times set at intake, when
    each clock stopped, the escalations already applied (each once), and the level the last
    check found, which the wallboard counts. ``open`` until the task ends."""

    __tablename__ = "mail_slas"
    __table_args__ = (Index("ix_mail_slas_open_queue", "open", "queue_id"),)
    task_id: Mapped[str] = mapped_column(
        ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True
    )
    conversation_id: Mapped[str | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), default=None
    )
    queue_id: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_response_due: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    resolution_due: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    business_hours: Mapped[bool] = mapped_column(default=True)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    escalated: Mapped[list[str]] = mapped_column(JSON, default=list)
    level: Mapped[str] = mapped_column(String(10), default="on_time")  # on_time, at_risk, breached
    open: Mapped[bool] = mapped_column(default=True)
