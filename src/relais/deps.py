"""FastAPI dependencies as named ``Annotated`` aliases: who is calling, and the runtime."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from relais.contacts.models import Visitor
from relais.core.errors import Forbidden, NotAuthenticated
from relais.core.ratelimit import address_bucket
from relais.identity.principals import AgentPrincipal, Principal, VisitorPrincipal
from relais.identity.service import agent_for_session, principal_of
from relais.identity.tokens import InvalidToken, read_visitor_token
from relais.runtime import Runtime

SESSION_COOKIE = "relais_session"
CSRF_COOKIE = "relais_csrf"
CSRF_HEADER = "x-csrf-token"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def client_address(request: Request) -> str:
    """The requester as rate limits count it: its address, an IPv6 client by its /64 (one
    subscriber's network, relais.core.ratelimit.address_bucket)."""
    return address_bucket(request.client.host if request.client else "unknown")


def check_visitor_origin(runtime: Runtime, origin: str | None) -> None:
    """Browsers send Origin on cross-origin calls; only allowed sites may embed the widget."""
    if origin is not None and origin not in runtime.settings.widget.allowed_origins:
        raise Forbidden("This site may not use the chat.", code="origin_not_allowed")


async def get_principal(request: Request, runtime: RuntimeDep) -> Principal:
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        check_visitor_origin(runtime, request.headers.get("origin"))
        try:
            visitor_id = read_visitor_token(runtime.settings.secret_key, authorization[7:].strip())
        except InvalidToken:
            raise NotAuthenticated("Invalid visitor token.", code="invalid_token") from None
        async with runtime.db.transaction(write=False) as uow:
            if await uow.session.get(Visitor, visitor_id) is None:
                raise NotAuthenticated("Unknown visitor.", code="invalid_token")
        return VisitorPrincipal(visitor_id=visitor_id)
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise NotAuthenticated("Log in first.")
    async with runtime.db.transaction(write=False) as uow:
        agent, csrf = await agent_for_session(uow.session, token)
        principal = principal_of(agent)
    if request.method not in _SAFE_METHODS and request.headers.get(CSRF_HEADER) != csrf:
        raise Forbidden("Missing or wrong CSRF token.", code="csrf_failed")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


async def get_agent(principal: CurrentPrincipal) -> AgentPrincipal:
    if not isinstance(principal, AgentPrincipal):
        raise Forbidden("Only agents can do this.")
    return principal


async def get_visitor(principal: CurrentPrincipal) -> VisitorPrincipal:
    if not isinstance(principal, VisitorPrincipal):
        raise Forbidden("Only the visitor can do this.")
    return principal


CurrentAgent = Annotated[AgentPrincipal, Depends(get_agent)]
CurrentVisitor = Annotated[VisitorPrincipal, Depends(get_visitor)]
