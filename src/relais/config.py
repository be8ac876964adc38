"""One Settings object, read from RELAIS_* variables, built at the composition root.

Nested groups use a double underscore: ``RELAIS_WIDGET__ALLOWED_ORIGINS``. Low-level modules never
import this; the app passes down what each part needs.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from relais.channels.callback.domain import CallbackPolicy
from relais.channels.email.sla import SlaPolicy


class WidgetSettings(BaseModel):
    # Origins (scheme://host[:port]) allowed to embed the widget and call the visitor API.
    allowed_origins: list[str] = Field(
        default_factory=lambda: ["http://127.0.0.1:8000", "http://localhost:8000"]
    )
    # Host-site identity keys: key id (JWT "kid") -> shared secret (HS256).
    identity_keys: dict[str, str] = Field(default_factory=dict)
    visitor_token_days: int = 365

    @field_validator("identity_keys")
    @classmethod
    def _long_enough(cls, keys: dict[str, str]) -> dict[str, str]:
        short = [kid for kid, secret in keys.items() if len(secret.encode()) < 32]
        if short:
            raise ValueError(f"identity keys need at least 32 bytes (HS256): {', '.join(short)}")
        return keys


class ChatSettings(BaseModel):
    max_message_chars: int = 4000
    # Frames a slow client may have waiting before it is disconnected (it resumes on reconnect).
    max_outbox_frames: int = 2000
    heartbeat_seconds: float = 25.0
    max_frame_bytes: int = 64 * 1024


class AttachmentSettings(BaseModel):
    directory: Path = Path("var/attachments")
    max_bytes: int = 10 * 1024 * 1024
    # Types are detected from the file's content, not from what the client claims.
    allowed_types: list[str] = Field(
        default_factory=lambda: [
            "image/png",
            "image/jpeg",
            "image/gif",
            "image/webp",
            "application/pdf",
            "text/plain",
        ]
    )


class RateLimitSettings(BaseModel):
    # Requests per minute per client IP on anonymous endpoints (visitor session, login, offline).
    anonymous_per_minute: int = 60
    login_per_minute: int = 10


class AuthSettings(BaseModel):
    session_hours: int = 12
    # Set when served over HTTPS so cookies are only sent over TLS.
    secure_cookies: bool = False


class CallbackSettings(CallbackPolicy):
    """The callback policy (rate limits, countries, blocklist, attempts, slots: see
    channels/callback/domain.CallbackPolicy) and where requests go."""

    # The queue callbacks go to, by name; unset: the default queue (routing.default_queue).
    queue: str | None = None
    # How a number typed without its country code is read when the widget gives no region.
    default_region: str = Field(default="FR", pattern=r"^[A-Z]{2}$")

    def policy(self) -> CallbackPolicy:
        return CallbackPolicy.model_validate(self.model_dump(exclude={"queue", "default_region"}))


class RoutingSettings(BaseModel):
    # The queue chats go to, created at start-up with the default team and these rules.
    default_queue: str = "Chat"
    # Offers are accepted by the agent within the timeout, or given at once (auto-accept).
    auto_accept: bool = False
    reservation_timeout_s: float = 30.0
    # The engine runs in the process holding this lease; another takes over after it lapses.
    lease_ttl_s: float = 5.0


class MailboxSettings(BaseModel):
    """One address mail arrives at, and the queue its new conversations go to."""

    name: str = Field(min_length=1, max_length=30)
    address: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")  # replies are sent from it
    queue: str = "E-mail"
    # IMAP fetching (optional: mail may arrive by the SMTP/LMTP listener instead).
    imap_host: str | None = None
    imap_port: int = 993
    imap_tls: bool = True  # implicit TLS (IMAPS); plain IMAP only on a trusted network
    imap_ca_file: Path | None = None  # trust this CA instead of the system's
    imap_username: str | None = None
    imap_password: str | None = None
    imap_folder: str = "INBOX"
    # What happens on the server once a message is stored here: nothing, \Seen, or deleted.
    after_fetch: Literal["keep", "seen", "delete"] = "keep"
    idle: bool = True  # IMAP IDLE when the server has it; polling otherwise
    poll_s: float = Field(default=60.0, gt=0)


class MailSettings(BaseModel):
    mailboxes: list[MailboxSettings] = Field(default_factory=list)
    # Message-IDs of outbound mail end with this domain (default: the public URL's host).
    domain: str | None = None
    # More addresses of ours, besides the mailboxes' (mail from them is never answered).
    own_addresses: list[str] = Field(default_factory=list)
    # The SMTP (or LMTP) listener an MTA delivers to, "host:port"; off when unset.
    listen: str | None = None
    lmtp: bool = False
    max_message_bytes: int = 40 * 1024 * 1024
    # The relay outbound mail goes through; nothing is sent while unset (it waits in the outbox).
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_tls: Literal["starttls", "tls", "none"] = "starttls"
    smtp_ca_file: Path | None = None
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_timeout_s: float = 30.0
    # Back-off between attempts: base, doubling, capped; a message is never dropped.
    retry_base_s: float = Field(default=30.0, gt=0)
    retry_max_s: float = Field(default=3600.0, gt=0)
    outbox_poll_s: float = Field(default=5.0, gt=0)
    # Acknowledgements of new conversations, at most this many per sender and hour.
    acknowledge: bool = True
    ack_per_sender_per_hour: int = Field(default=3, ge=0)
    # Per queue name, then language ("en", "fr"): {"subject": ..., "body": ...} overriding the
    # built-in texts. Placeholders: {reference} {number} {subject} {name} {expected} {queue}.
    # Parsed at start-up (channels/email/ack.py): a bad template stops it, with the reason.
    ack_templates: dict[str, dict[str, dict[str, str]]] = Field(default_factory=dict)
    lease_ttl_s: float = Field(default=30.0, gt=0)
    # Triage rules of new mail, a rule set as JSON ({"rules": [...]}: channels/email/rules.py).
    triage_rules: dict[str, Any] | None = None
    # The intent model learnt from resolved mail sets the queue and tags of a new mail that no
    # rule placed when it is at least this sure (channels/email/intent.py, decision 0007).
    intent_threshold: float = Field(default=0.6, ge=0.0, le=1.0)
    # Past agent replies each process keeps for suggested answers (the most recent).
    suggestion_replies: int = Field(default=10_000, ge=0, le=200_000)
    # Service-level targets of e-mail per queue and priority, and the escalations
    # (channels/email/sla.py): {"targets": [{"queue", "min_priority", "first_response_minutes",
    # "resolution_minutes", "business_hours"}], "escalation": {"warn_at", "raise_priority_by",
    # "max_priority"}}. How often one process checks them.
    sla: SlaPolicy = Field(default_factory=SlaPolicy)
    sla_check_s: float = Field(default=15.0, gt=0)

    @field_validator("ack_templates")
    @classmethod
    def _templates_parse(
        cls, value: dict[str, dict[str, dict[str, str]]]
    ) -> dict[str, dict[str, dict[str, str]]]:
        from relais.channels.email.ack import AckTemplates

        AckTemplates.from_queues(value)  # raises a ValueError that names the template
        return value


WebhookEvent = Literal["task.offered", "task.accepted", "task.completed"]
WEBHOOK_EVENTS: tuple[WebhookEvent, ...] = ("task.offered", "task.accepted", "task.completed")


class CtiSettings(BaseModel):
    """The CRM screen pop and the signed webhook (docs/configuration.md, "CTI")."""

    # e.g. https://crm.example.com/contacts/{external_id}?task={task_id}; placeholders in
    # relais.integrations.cti.PLACEHOLDERS, each value percent-encoded. Checked at start-up.
    pop_url_template: str | None = None
    # Used when the template lacks a value (an anonymous visitor has no external id), e.g. a
    # search by e-mail; no link when both lack one.
    pop_url_fallback_template: str | None = None
    # The desk opens the CRM page when the agent accepts (else it only shows the link).
    open_on_accept: bool = False
    webhook_url: str | None = None
    # whsec_ + base64 of 24 to 64 random bytes (Standard Webhooks); required with a URL.
    webhook_secret: SecretStr | None = None
    webhook_events: list[WebhookEvent] = Field(default_factory=lambda: list(WEBHOOK_EVENTS))
    webhook_timeout_s: float = Field(default=10.0, gt=0, le=120)
    # Back-off between attempts: base, doubling, capped, with jitter; failed after N attempts.
    webhook_retry_base_s: float = Field(default=5.0, gt=0)
    webhook_retry_max_s: float = Field(default=3600.0, gt=0)
    webhook_max_attempts: int = Field(default=10, ge=1, le=100)
    webhook_poll_s: float = Field(default=2.0, gt=0)
    lease_ttl_s: float = Field(default=30.0, gt=0)

    @field_validator("pop_url_template", "pop_url_fallback_template")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        from relais.integrations.cti import parse_template

        if value:
            parse_template(value)  # raises a ValueError that names the problem
        return value or None

    @field_validator("webhook_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        from urllib.parse import urlsplit

        if value and (
            urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).hostname
        ):
            raise ValueError("the webhook URL must be http:// or https:// with a host")
        return value or None

    @field_validator("webhook_secret")
    @classmethod
    def _secret(cls, value: SecretStr | None) -> SecretStr | None:
        from relais.integrations.signing import decode_secret

        if value is not None and value.get_secret_value():
            decode_secret(value.get_secret_value())
            return value
        return None

    @model_validator(mode="after")
    def _secret_with_url(self) -> CtiSettings:
        if self.webhook_url and self.webhook_secret is None:
            raise ValueError("RELAIS_CTI__WEBHOOK_URL needs RELAIS_CTI__WEBHOOK_SECRET")
        return self


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="RELAIS_", env_nested_delimiter="__", env_file=".env", extra="ignore"
    )

    database_url: str = "sqlite+aiosqlite:///var/relais.db"
    redis_url: str | None = None
    # Signs visitor tokens. Generated per process when unset, which suits one demo process but
    # invalidates visitor tokens on restart: set it in production, the same for every process.
    secret_key: str = Field(default_factory=lambda: secrets.token_urlsafe(32), min_length=32)
    public_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "info"
    default_team: str = "Support"

    widget: WidgetSettings = Field(default_factory=WidgetSettings)
    chat: ChatSettings = Field(default_factory=ChatSettings)
    attachments: AttachmentSettings = Field(default_factory=AttachmentSettings)
    rate_limits: RateLimitSettings = Field(default_factory=RateLimitSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    routing: RoutingSettings = Field(default_factory=RoutingSettings)
    callback: CallbackSettings = Field(default_factory=CallbackSettings)
    mail: MailSettings = Field(default_factory=MailSettings)
    cti: CtiSettings = Field(default_factory=CtiSettings)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
