"""The composition root: builds every part from Settings and wires them together."""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter
from starlette.exceptions import HTTPException as StarletteHTTPException

from relais.channels.callback import endpoints as callback_endpoints
from relais.channels.callback.channel import CallbackChannel
from relais.channels.callback.events import CallbackChanged
from relais.channels.chat import endpoints as chat_endpoints
from relais.channels.email import envelope_endpoints as mail_endpoints
from relais.channels.email import rules_endpoints as mail_rules_endpoints
from relais.channels.email import suggest_endpoints as mail_suggest_endpoints
from relais.channels.email.automation import MailAutomation
from relais.channels.email.channel import MailChannel, mail_configured
from relais.channels.email.events import IntentModelChanged, MailRulesChanged, SlaAlert
from relais.config import Settings
from relais.contacts import endpoints as contacts_endpoints
from relais.conversations import context as conversation_context
from relais.conversations import endpoints as conversations_endpoints
from relais.conversations.attachments import AttachmentStore
from relais.conversations.events import (
    ConversationChanged,
    MessageCreated,
    ReadUpTo,
    Typing,
    VisitorPageViewed,
)
from relais.core.bus import Bus, Event, MemoryBus, RedisBus
from relais.core.db import Database
from relais.core.errors import AppError, RateLimited
from relais.core.gc_tuning import LoopCollector
from relais.core.loop_monitor import LoopMonitor
from relais.core.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from relais.identity import endpoints as identity_endpoints
from relais.identity.events import AgentPresenceChanged
from relais.identity.service import get_or_create_team
from relais.integrations.signing import decode_secret
from relais.integrations.webhooks import Backoff, WebhookSender
from relais.realtime import endpoints as realtime_endpoints
from relais.realtime.gateway import Gateway
from relais.routing import endpoints as routing_endpoints
from relais.routing.events import CallbackOffered, QueueChanged, QueuePosition, TaskChanged
from relais.routing.leader import RoutingLeader
from relais.routing.queues import RoutingRules
from relais.routing.router import AcdRouter
from relais.routing.service import get_or_create_queue
from relais.runtime import Runtime
from relais.supervision import endpoints as supervision_endpoints
from relais.web import pages
from relais.web.security import SecurityHeaders

log = logging.getLogger(__name__)

AnyEvent = (
    ConversationChanged
    | MessageCreated
    | ReadUpTo
    | Typing
    | VisitorPageViewed
    | AgentPresenceChanged
    | TaskChanged
    | QueueChanged
    | CallbackOffered
    | QueuePosition
    | CallbackChanged
    | MailRulesChanged
    | IntentModelChanged
    | SlaAlert
)
_event_adapter: TypeAdapter[AnyEvent] = TypeAdapter(AnyEvent)


def decode_event(data: bytes | str) -> Event:
    event: Event = _event_adapter.validate_json(data)
    return event


def build_runtime(settings: Settings) -> Runtime:
    bus: Bus = RedisBus(settings.redis_url, decode_event) if settings.redis_url else MemoryBus()
    limiter: RateLimiter
    if settings.redis_url:
        import redis.asyncio as redis

        limiter = RedisRateLimiter(redis.from_url(settings.redis_url))
    else:
        limiter = MemoryRateLimiter()
    db = Database(settings.database_url, bus, background_checkpoints=True)
    gateway = Gateway(db, heartbeat_s=settings.chat.heartbeat_seconds)
    bus.subscribe(gateway.on_event)
    leader = RoutingLeader(
        db, holder=f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}",
        ttl_s=settings.routing.lease_ttl_s,
    )  # fmt: skip
    bus.subscribe(leader.on_event)
    router = AcdRouter()
    store = AttachmentStore(
        settings.attachments.directory,
        max_bytes=settings.attachments.max_bytes,
        allowed_types=settings.attachments.allowed_types,
    )
    callbacks = CallbackChannel(
        policy=settings.callback.policy(),
        queue=settings.callback.queue,
        default_region=settings.callback.default_region,
        # The engine's clock: a callback's times and the timer that enqueues it agree.
        clock=lambda: datetime.fromtimestamp(leader.clock(), UTC),
    )
    return Runtime(
        settings=settings,
        db=db,
        bus=bus,
        assigner=router,
        router=router,
        leader=leader,
        limiter=limiter,
        gateway=gateway,
        attachments=store,
        loop_monitor=LoopMonitor(),
        callbacks=callbacks,
    )


def _webhook_sender(settings: Settings, runtime: Runtime) -> WebhookSender | None:
    """The CTI webhook's sender, when a URL is configured (RELAIS_CTI__WEBHOOK_URL)."""
    cti = settings.cti
    if not cti.webhook_url or cti.webhook_secret is None:
        return None
    sender = WebhookSender(
        runtime.db,
        url=cti.webhook_url,
        key=decode_secret(cti.webhook_secret.get_secret_value()),
        holder=f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}",
        events=cti.webhook_events,
        templates=(cti.pop_url_template, cti.pop_url_fallback_template),
        timeout_s=cti.webhook_timeout_s,
        backoff=Backoff(cti.webhook_retry_base_s, cti.webhook_retry_max_s),
        max_attempts=cti.webhook_max_attempts,
        poll_s=cti.webhook_poll_s,
        lease_ttl_s=cti.lease_ttl_s,
    )
    runtime.bus.subscribe(sender.on_event)
    return sender


def create_app(
    settings: Settings | None = None, *, collector: LoopCollector | None = None
) -> FastAPI:
    settings = settings or Settings()
    runtime = build_runtime(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if collector is not None:
            await collector.start()
        runtime.db.start()
        # Run (not a bare transaction): processes starting together on a new database race
        # to create the team, and the loser's second run finds it.
        team = await runtime.db.run(
            lambda uow: get_or_create_team(uow.session, settings.default_team)
        )
        runtime.default_team_id = team.id
        routing = settings.routing
        rules = RoutingRules(
            auto_accept=routing.auto_accept, reservation_timeout_s=routing.reservation_timeout_s
        )
        queue = await runtime.db.run(
            lambda uow: get_or_create_queue(
                uow.session, routing.default_queue, team_id=team.id, rules=rules
            )
        )
        runtime.router.default_queue_id = queue.id
        await runtime.bus.start()
        await runtime.gateway.start()
        await runtime.leader.start()
        await runtime.loop_monitor.start()
        mail = None
        if mail_configured(settings):
            mail = MailChannel(settings, runtime.db, runtime.bus, runtime.attachments)
            await mail.start(team.id)
        app.state.mail = mail
        automation = MailAutomation(
            settings, runtime.db, runtime.bus,
            holder=f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}",
        )  # fmt: skip
        await automation.start()
        app.state.mail_replies = automation.replies  # GET /conversations/{id}/suggestions
        webhooks = _webhook_sender(settings, runtime)
        if webhooks is not None:
            await webhooks.start()
        app.state.webhooks = webhooks
        yield
        if webhooks is not None:
            await webhooks.stop()
        await automation.stop()
        if mail is not None:
            await mail.stop()
        await runtime.loop_monitor.stop()
        await runtime.leader.stop()
        await runtime.gateway.stop()
        await runtime.bus.stop()
        await runtime.db.dispose()
        if collector is not None:
            await collector.stop()

    app = FastAPI(
        title="Relais",
        version="0.1.0",
        lifespan=lifespan,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    app.state.runtime = runtime

    api = APIRouter(prefix="/api/v1")
    api.include_router(identity_endpoints.router)
    api.include_router(routing_endpoints.router)
    api.include_router(supervision_endpoints.router)
    api.include_router(chat_endpoints.router)
    api.include_router(callback_endpoints.router)
    api.include_router(mail_rules_endpoints.router)
    api.include_router(mail_suggest_endpoints.router)
    api.include_router(mail_endpoints.router)
    api.include_router(conversations_endpoints.router)
    api.include_router(conversation_context.router)
    api.include_router(conversations_endpoints.attachments_router)
    api.include_router(contacts_endpoints.router)
    app.include_router(api)
    app.include_router(realtime_endpoints.router)
    app.include_router(pages.router)
    _install_error_handlers(app)

    # The widget calls the API from the customer's site: CORS for the allowed origins only, and
    # without credentials (visitors authenticate with a bearer token, never with cookies).
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.widget.allowed_origins,
        allow_credentials=False,
        allow_methods=["GET", "POST", "PUT"],
        allow_headers=["Authorization", "Content-Type"],
        max_age=600,
    )
    app.add_middleware(SecurityHeaders)
    return app


def _error(status: int, code: str, message: str, **extra: object) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, **extra}}, status_code=status)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def app_error(_: Request, exc: AppError) -> JSONResponse:
        response = _error(exc.status_code, exc.code, exc.message)
        if isinstance(exc, RateLimited):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"loc": [str(x) for x in e.get("loc", ())], "msg": str(e.get("msg", ""))}
            for e in exc.errors()
        ]
        return _error(422, "invalid", "The request is not valid.", details=details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _error(exc.status_code, code, str(exc.detail))
