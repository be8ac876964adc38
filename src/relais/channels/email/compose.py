"""Outbound mail as bytes: headers that thread (Message-ID on our domain, In-Reply-To,
References), text and HTML alternatives, attachments. Pure: the caller gives time and ids.

Built once, when the mail is decided, and stored: every attempt sends the same bytes, so a
retry after a lost answer from the server is the same message (same Message-ID), which
receivers deduplicate.
"""

from __future__ import annotations

import email.utils
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP

from relais.channels.email.parse import Address

MAX_REFERENCES = 20  # the root and the newest: enough to thread, short enough for any server


@dataclass(frozen=True, slots=True)
class OutgoingFile:
    filename: str
    content_type: str
    data: bytes


def references_for(parent_references: Sequence[str], parent_id: str | None) -> list[str]:
    """RFC 5322 §3.6.4: the parent's References followed by the parent's Message-ID."""
    chain = [r for r in parent_references if r != parent_id]
    if parent_id:
        chain.append(parent_id)
    if len(chain) > MAX_REFERENCES:
        chain = chain[:1] + chain[-(MAX_REFERENCES - 1) :]
    return chain


def build_message(
    *,
    message_id: str,
    sender: Address,
    to: Sequence[Address],
    subject: str,
    text: str,
    html: str | None,
    date: datetime,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    automatic: bool = False,
    language: str | None = None,
    files: Sequence[OutgoingFile] = (),
) -> bytes:
    message = EmailMessage(policy=SMTP)
    message["Message-ID"] = message_id
    message["Date"] = email.utils.format_datetime(date)
    message["From"] = _address(sender)
    message["To"] = ", ".join(_address(a) for a in to)
    message["Subject"] = " ".join(subject.split())[:900]
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = " ".join(references)
    if automatic:
        # RFC 3834: no automatic answer to this, and Exchange's own way of asking the same.
        message["Auto-Submitted"] = "auto-replied"
        message["X-Auto-Response-Suppress"] = "All"
    if language:
        message["Content-Language"] = language
    message.set_content(text if text.endswith("\n") else text + "\n", cte="quoted-printable")
    if html:
        message.add_alternative(html, subtype="html", cte="quoted-printable")
    for file in files:
        maintype, _, subtype = file.content_type.partition("/")
        message.add_attachment(
            file.data,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=file.filename,
        )
    return message.as_bytes()


def _address(address: Address) -> str:
    return (
        email.utils.formataddr((address.name, address.address))
        if address.name
        else (address.address)
    )
