"""Mail no person wrote: bounces, feedback reports, auto-replies, lists, bulk, our own echoes.

A contact centre must not answer a machine: an acknowledgement sent to an out-of-office reply
gets another out-of-office reply (RFC 3834 §2 and the mail loops it prevents), and routing
bounces to agents wastes them. ``classify_automatic`` says what a message is and why; what to do
with each kind is the triage's decision (a bounce marks the outbound message failed, an
auto-reply may be noted on its conversation, nothing automatic gets an acknowledgement).

``X-Auto-Response-Suppress`` alone does not make a message automatic: it says what its sender
wants (no automatic answer), not what it is, and the systems that set it send mail that people
wrote too. Such a message keeps kind ``none`` with ``suppress_auto_reply`` set.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

from relais.channels.email import dsn
from relais.channels.email.parse import ParsedMail

Kind = Literal[
    "none", "auto_reply", "bulk", "list", "bounce", "feedback_report", "own_address"
]  # fmt: skip

# Local parts and names that only delivery systems send from.
_BOUNCE_SENDER = re.compile(
    r"mailer-daemon|mailer_daemon|\bpostmaster@|\bmail-daemon@|mail delivery (?:system|subsystem)",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"^\s*(?:undeliver(?:ed|able)|delivery (?:status notification|failure|has failed|report"
    r"|notification)|mail delivery (?:failed|failure)|returned mail|failure notice"
    r"|non remis|non distribuable|unzustellbar|mail system error|delivery failure"
    r"|message delivery has failed|warning: message .* delayed|delayed mail|failed delivery"
    r"|mail could not be delivered|there was an error sending your mail)",
    re.IGNORECASE,
)
# Out-of-office subjects, English and French (and the German and Spanish ones as common):
# the marker must open the subject and end at a colon, or be the whole subject.
_AUTO_REPLY_SUBJECT = re.compile(
    r"^\s*(?:(?:out of (?:the )?office(?: auto ?reply)?|automatic reply|auto[- ]?reply"
    r"|auto[- ]?response|automatic response|vacation(?: reply)?|on vacation|away from (?:my|the)"
    r" office|r[ée]ponse automatique|absence du bureau|message d'absence|r[ée]pondeur"
    r"|abwesenheitsnotiz|automatische antwort|respuesta autom[áa]tica|fuera de la oficina"
    r"|auto)\s*(?::|$|\()"
    r"|absente?\b|away until\b|.{0,80}\bis out of (?:the )?office\b)",
    re.IGNORECASE,
)
_VACATION_MAILER = re.compile(r"vacation|auto[- ]?respon|auto[- ]?reply|out of office", re.I)
_COMPLAINT_SUBJECT = re.compile(r"^\s*complaint about message from\b", re.IGNORECASE)
_SES_COMPLAINT = re.compile(r'\\?"notificationType\\?"\s*:\s*\\?"Complaint', re.IGNORECASE)
_SES_NOTIFICATION = re.compile(r'\\?"notificationType\\?"\s*:\s*\\?"(?:Bounce|Delivery)')
_REPORT_TYPE = re.compile(r"report-type\s*=\s*\"?([\w-]+)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class AutoVerdict:
    kind: Kind
    reason: str  # the rule that decided, for the log and the agent: "Auto-Submitted: auto-replied"
    suppress_auto_reply: bool = False  # the sender asks for no automatic answer

    @property
    def automatic(self) -> bool:
        """Written by a machine: never acknowledged, never routed as a person's request."""
        return self.kind != "none"


def classify_automatic(mail: ParsedMail, own_addresses: Collection[str] = ()) -> AutoVerdict:
    """What kind of automatic mail ``mail`` is, and the first rule that says so."""
    headers = mail.headers
    report_type = _report_type(mail)
    types = {a.content_type for a in mail.attachments}

    if report_type == "feedback-report" or "message/feedback-report" in types:
        return AutoVerdict("feedback_report", "RFC 5965 abuse feedback report")
    ses = "notificationType" in mail.text  # a cheap test before the regular expressions
    if _COMPLAINT_SUBJECT.match(mail.subject) or (ses and _SES_COMPLAINT.search(mail.text)):
        return AutoVerdict("feedback_report", "complaint feedback loop")
    if report_type == "delivery-status" or types & set(dsn.DELIVERY_STATUS_TYPES):
        return AutoVerdict("bounce", "RFC 3464 delivery status notification")
    if report_type == "disposition-notification":
        return AutoVerdict("auto_reply", "RFC 8098 read receipt")
    from_header = headers.get("From") or ""
    if _BOUNCE_SENDER.search(from_header) or _empty_address(from_header):
        return AutoVerdict("bounce", f"sent by a mail system: From: {from_header.strip()[:80]}")
    if "X-Failed-Recipients" in headers:
        return AutoVerdict("bounce", "X-Failed-Recipients")
    if ses and "x-amz-sns-message-id" in headers and _SES_NOTIFICATION.search(mail.text):
        return AutoVerdict("bounce", "Amazon SES delivery notification")

    sender = mail.from_.address if mail.from_ else ""
    if sender and sender in {a.lower() for a in own_addresses}:
        return AutoVerdict("own_address", f"sent from our own address {sender}")

    null_sender = _null_sender(headers.get("Return-Path"))
    auto = _auto_reply(mail)
    if null_sender and auto is None and _BOUNCE_SUBJECT.match(mail.subject):
        return AutoVerdict("bounce", "null sender and a bounce subject")
    if null_sender and auto is None and dsn.read_delivery_report(mail).failed:
        return AutoVerdict("bounce", "null sender and a report of failed recipients")
    if auto is not None:
        return AutoVerdict("auto_reply", auto)
    if null_sender:
        return AutoVerdict("auto_reply", "null sender (Return-Path: <>)")

    precedence = (headers.get("Precedence") or "").strip().lower()
    for name in ("List-Id", "Mailing-List", "X-MLServer"):
        if name in headers:
            return AutoVerdict("list", f"mailing list ({name})")
    if precedence == "list":
        return AutoVerdict("list", "Precedence: list")
    if precedence in ("bulk", "junk"):
        return AutoVerdict("bulk", f"Precedence: {precedence}")
    if "List-Unsubscribe" in headers:
        return AutoVerdict("bulk", "List-Unsubscribe")
    suppress = (headers.get("X-Auto-Response-Suppress") or "").strip().lower()
    return AutoVerdict("none", "", suppress_auto_reply=bool(suppress) and suppress != "none")


def _auto_reply(mail: ParsedMail) -> str | None:
    """The reason ``mail`` is an automatic reply, or None."""
    headers = mail.headers
    submitted = (headers.get("Auto-Submitted") or "").strip()
    if submitted and submitted.split(";")[0].strip().lower() != "no":
        return f"Auto-Submitted: {submitted[:40]}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Auto-Reply"):
        if name in headers:
            return name
    if (headers.get("X-POST-MessageClass") or "").startswith("9;"):
        return "X-POST-MessageClass: 9; Autoresponder"
    for name in ("X-Mailer", "User-Agent"):
        if _VACATION_MAILER.search(headers.get(name) or ""):
            return f"{name}: {(headers.get(name) or '')[:40]}"
    if _AUTO_REPLY_SUBJECT.match(mail.subject):
        return f"out-of-office subject: {mail.subject[:60]}"
    return None


def _report_type(mail: ParsedMail) -> str | None:
    if mail.content_type != "multipart/report":
        return None
    found = _REPORT_TYPE.search(mail.headers.get("Content-Type") or "")
    return found.group(1).lower() if found else None


def _null_sender(return_path: str | None) -> bool:
    return return_path is not None and return_path.strip().strip("<>").strip() == ""


def _empty_address(from_header: str) -> bool:
    """``From: MAILER-DAEMON <>``: the null address only delivery systems use."""
    return "<>" in from_header.replace(" ", "")
