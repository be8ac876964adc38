"""Delivery status notifications (bounces): who could not be reached, and which message failed.

``read_delivery_report`` reads, in order of trust:

1. RFC 3464 ``message/delivery-status`` parts (``message/global-delivery-status`` too): one block
   per recipient with Final-Recipient, Original-Recipient, Action, Status, Diagnostic-Code;
2. Amazon SES notifications relayed by SNS, a JSON document in the text;
3. Exim's ``X-Failed-Recipients`` header;
4. the report text of the other dialects (``bounce_text``);
5. failing all of those, the recipients of the returned message's header (Google Groups names
   only the group's name in its text): marked ``source="returned-message"``.

The Message-ID of the message that failed comes from the returned message (``message/rfc822``,
``text/rfc822-headers``, or the copy appended to the text), so the store can mark the outbound
message it sent as failed. A report that sets ``Original-Envelope-Id`` gives it as
``envelope_id``: what was passed as ENVID when the message was sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import Literal

from relais.channels.email import bounce_text
from relais.channels.email.bounce_text import ADDRESS
from relais.channels.email.parse import ParsedMail, normalise_message_id, parse_message

Action = Literal["failed", "delayed", "delivered", "relayed", "expanded"]
Source = Literal["delivery-status", "notification", "header", "report", "returned-message"]

DELIVERY_STATUS_TYPES = ("message/delivery-status", "message/global-delivery-status")
RETURNED_TYPES = (
    "message/rfc822",
    "message/global",
    "text/rfc822-headers",
    "message/rfc822-headers",
    "message/global-headers",
    "message/partial",  # the first fragment of a message: its header
)
_ACTIONS: dict[str, Action] = {
    "failed": "failed",
    "failure": "failed",
    "delayed": "delayed",
    "delivered": "delivered",
    "relayed": "relayed",
    "expanded": "expanded",
}
_ADDRESS = re.compile(ADDRESS)
_FIELD = re.compile(r"^([A-Za-z][A-Za-z0-9-]*)[ \t]*:[ \t]*(.*)$")
_SES_TYPE = re.compile(r'\\?"notificationType\\?"\s*:\s*\\?"(\w+)')
_SES_BOUNCED = re.compile(r'\\?"emailAddress\\?"\s*:\s*\\?"([^"\\]+)')
_SES_DELIVERED = re.compile(r'\\?"recipients\\?"\s*:\s*\[([^\]]*)\]')
_SES_MESSAGE_ID = re.compile(
    r'\\?"name\\?"\s*:\s*\\?"Message-ID\\?"\s*,\s*\\?"value\\?"\s*:\s*\\?"([^"\\]+)', re.I
)
_TEXT_FINAL_RECIPIENT = re.compile(r"^Final-Recipient[ \t]*:", re.I | re.M)
_QUOTED_ADDRESS = re.compile(r'"[^"\r\n]{1,64}"@[\w-]+(?:\.[\w-]+)+')
_QUOTED_MESSAGE_ID = re.compile(r"^[ \t>]*Message-ID[ \t]*:[ \t]*(<[^<>\s]+>)", re.I | re.M)
_MAX_HEADER_BLOCK = 64 * 1024
# Reports are a few KB; what follows is the returned message, of which the header is enough.
_MAX_REPORT_TEXT = 256 * 1024


@dataclass(frozen=True, slots=True)
class RecipientStatus:
    address: str  # lowercased
    action: Action
    status: str | None = None  # enhanced status code, "5.1.1"
    diagnostic: str | None = None
    original_address: str | None = None  # before aliases and forwarding, when given
    source: Source = "delivery-status"


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    recipients: tuple[RecipientStatus, ...]
    original_message_id: str | None  # "<...>" of the message that was being delivered
    envelope_id: str | None
    original_recipients: tuple[str, ...]  # To and Cc of the returned message, when returned

    @property
    def failed(self) -> tuple[RecipientStatus, ...]:
        return tuple(r for r in self.recipients if r.action == "failed")


def read_delivery_report(mail: ParsedMail, *, _nested: bool = False) -> DeliveryReport:
    """What a bounce says: recipients and their fate, the message it is about. May be empty."""
    text = mail.text[:_MAX_REPORT_TEXT]
    report, returned_text = bounce_text.split_returned(text)
    returned = _returned_headers(mail, returned_text)
    if not _nested and _is_bounce_header(returned):
        # A bounce forwarded inside another report: what it says is what counts.
        inner = read_delivery_report(
            parse_message(returned_text.encode("utf-8", "surrogateescape")), _nested=True
        )
        if inner.recipients:
            return inner
    recipients: list[RecipientStatus] = []
    envelope_id = None
    for attachment in mail.attachments:
        if attachment.content_type in DELIVERY_STATUS_TYPES:
            status = attachment.data()[:_MAX_REPORT_TEXT].decode("utf-8", "replace")
            found, envelope = _delivery_status(status)
            recipients.extend(found)
            envelope_id = envelope_id or envelope
    if not recipients:
        recipients = _ses_notification(text)
    if not recipients and _TEXT_FINAL_RECIPIENT.search(text):
        # Delivery-status blocks pasted in the text (broken MIME, or a bounce forwarded inline).
        recipients, envelope = _delivery_status(text)
        envelope_id = envelope_id or envelope
    if not recipients:
        delayed = bounce_text.is_delay(mail.subject, report)
        action: Action = "delayed" if delayed else "failed"
        failed_header = ",".join(mail.headers.get_all("X-Failed-Recipients"))
        recipients = [
            RecipientStatus(a, action, source="header")
            for a in bounce_text.addresses(failed_header)
        ]
        if not recipients:
            recipients = [
                RecipientStatus(r.address, action, r.status, r.diagnostic, source="report")
                for r in bounce_text.recipients_in(report)
            ]
        if not recipients:
            recipients = [
                RecipientStatus(a, action, source="returned-message")
                for a in _original_recipients(returned)
            ]
    return DeliveryReport(
        recipients=tuple(_unique(recipients)),
        original_message_id=_original_message_id(mail, returned, returned_text),
        envelope_id=envelope_id,
        original_recipients=tuple(_original_recipients(returned)),
    )


def _delivery_status(text: str) -> tuple[list[RecipientStatus], str | None]:
    """RFC 3464: a per-message block, then one block per recipient."""
    recipients = []
    envelope_id = None
    for block in _blocks(text):
        if "original-envelope-id" in block:
            envelope_id = block["original-envelope-id"].strip() or None
        final = _address_field(block.get("final-recipient", ""))
        original = _address_field(block.get("original-recipient", ""))
        actual = _address_field(block.get("x-actual-recipient", ""))
        address = final or original or actual
        if not address:
            continue
        action_word = block.get("action", "failed").strip().lower().split()[:1]
        status = block.get("status", "").strip().split()[:1]
        recipients.append(
            RecipientStatus(
                address=address,
                action=_ACTIONS.get(action_word[0] if action_word else "failed", "failed"),
                status=status[0] if status else None,
                diagnostic=" ".join(block.get("diagnostic-code", "").split()) or None,
                original_address=original if original != address else None,
            )
        )
    return recipients, envelope_id


def _blocks(text: str) -> list[dict[str, str]]:
    """Header-style blocks separated by blank lines; names lowercased, values unfolded."""
    blocks: list[dict[str, str]] = []
    current: dict[str, str] = {}
    last: str | None = None
    for line in text.splitlines():
        if not line.strip():
            if current:
                blocks.append(current)
            current, last = {}, None
            continue
        if line[:1] in (" ", "\t") and last is not None:
            current[last] += " " + line.strip()
            continue
        match = _FIELD.match(line)
        if match:
            last = match.group(1).lower()
            current.setdefault(last, match.group(2).strip())
    if current:
        blocks.append(current)
    return blocks


def _address_field(value: str) -> str | None:
    """``rfc822; <a@b>`` to ``a@b``; None when there is no whole address in it."""
    value = value.split(";", 1)[1] if ";" in value else value
    found = _QUOTED_ADDRESS.search(value) or _ADDRESS.search(value)
    return found.group(0).lower() if found else None


def _ses_notification(text: str) -> list[RecipientStatus]:
    kind = _SES_TYPE.search(text)
    if not kind:
        return []
    if kind.group(1) == "Bounce":
        return [
            RecipientStatus(a.lower(), "failed", source="notification")
            for a in _SES_BOUNCED.findall(text)
        ]
    if kind.group(1) == "Delivery":
        listed = _SES_DELIVERED.search(text)
        found = bounce_text.addresses(listed.group(1)) if listed else []
        return [RecipientStatus(a, "delivered", source="notification") for a in found]
    return []


def _returned_headers(mail: ParsedMail, returned_text: str) -> dict[str, list[str]]:
    """The header of the returned message: from its part, else from the copy in the text."""
    blocks = []
    for attachment in mail.attachments:
        head = attachment.data()[:_MAX_HEADER_BLOCK].lstrip(b"\r\n")
        if attachment.content_type in RETURNED_TYPES:
            blocks.append(_header_fields(head))
        elif attachment.content_type == "text/plain":  # "mailheaders.txt" (x6, some relays)
            text = head.decode("utf-8", "replace")
            if bounce_text.starts_with_header(text):
                blocks.append(_header_fields(head))
    if returned_text.strip():
        blocks.append(bounce_text.returned_headers(returned_text))
    merged: dict[str, list[str]] = {}
    for fields in blocks:  # the first block that has a field gives it
        for name, values in fields.items():
            merged.setdefault(name, values)
    return merged


def _header_fields(head: bytes) -> dict[str, list[str]]:
    parsed = BytesHeaderParser(policy=compat32).parsebytes(head)
    fields: dict[str, list[str]] = {}
    for name, value in parsed.items():
        fields.setdefault(name.lower(), []).append(str(value))
    return fields


def _original_recipients(returned: dict[str, list[str]]) -> list[str]:
    values = returned.get("to", []) + returned.get("cc", [])
    return list(dict.fromkeys(a for v in values for a in bounce_text.addresses(v)))


def _original_message_id(
    mail: ParsedMail, returned: dict[str, list[str]], returned_text: str
) -> str | None:
    for value in returned.get("message-id", []):
        found = normalise_message_id(value)
        if found:
            return found
    ses = _SES_MESSAGE_ID.search(mail.text[:_MAX_REPORT_TEXT])
    if ses:
        return normalise_message_id(ses.group(1))
    # A Message-ID line left in a part the parser could not split (mismatched boundaries).
    texts = [returned_text or mail.text] + [
        a.data()[:_MAX_HEADER_BLOCK].decode("utf-8", "replace")
        for a in mail.attachments
        if a.content_type.startswith("text/") or a.content_type in DELIVERY_STATUS_TYPES
    ]
    for text in texts:
        for match in _QUOTED_MESSAGE_ID.finditer(text[:_MAX_REPORT_TEXT]):
            if match.group(1) != mail.message_id:
                return match.group(1)
    # Exchange and Office 365 reply to the message that failed.
    return mail.in_reply_to


def _is_bounce_header(fields: dict[str, list[str]]) -> bool:
    sender = " ".join(fields.get("from", []))
    kind = " ".join(fields.get("content-type", [])).lower()
    return "mailer-daemon" in sender.lower() or "report-type=delivery-status" in kind


def _unique(recipients: list[RecipientStatus]) -> list[RecipientStatus]:
    seen: set[str] = set()
    out = []
    for recipient in recipients:
        if recipient.address not in seen:
            seen.add(recipient.address)
            out.append(recipient)
    return out
