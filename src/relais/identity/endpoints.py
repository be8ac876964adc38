"""Agent login and the list of agents."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy import select

from relais.deps import CSRF_COOKIE, SESSION_COOKIE, CurrentAgent, RuntimeDep, client_address
from relais.identity.models import Agent
from relais.identity.schemas import AgentOut, LoginIn, LoginOut
from relais.identity.service import (
    agent_for_session,
    agent_out,
    check_login,
    do_change_presence,
    do_close_session,
    do_open_session,
)

router = APIRouter(tags=["agents"])


@router.post("/auth/login")
async def login(
    body: LoginIn, request: Request, response: Response, runtime: RuntimeDep
) -> LoginOut:
    """Log in: sets the session cookie (HttpOnly) and the CSRF cookie the desk echoes back."""
    settings = runtime.settings
    await runtime.limiter.hit(
        f"login:{client_address(request)}", settings.rate_limits.login_per_minute
    )
    async with runtime.db.transaction(write=False) as uow:
        agent = await check_login(uow.session, body.email, body.password)
    async with runtime.db.transaction() as uow:
        token, csrf = await do_open_session(uow.session, agent, hours=settings.auth.session_hours)
        out = agent_out(agent)
    max_age = settings.auth.session_hours * 3600
    secure = settings.auth.secure_cookies
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )
    response.set_cookie(
        CSRF_COOKIE,
        csrf,
        max_age=max_age,
        httponly=False,
        samesite="strict",
        secure=secure,
        path="/",
    )
    return LoginOut(agent=out, csrf_token=csrf)


@router.post("/auth/logout", status_code=204)
async def logout(
    request: Request, response: Response, agent: CurrentAgent, runtime: RuntimeDep
) -> None:
    token = request.cookies.get(SESSION_COOKIE, "")
    async with runtime.db.transaction() as uow:
        await do_close_session(uow.session, token)
        row = await uow.session.get(Agent, agent.agent_id)
        if row is not None and row.presence != "offline":
            # Nobody is at the desk any more: stop routing to it.
            await do_change_presence(uow, row, "offline")
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")


@router.get("/auth/me")
async def me(request: Request, agent: CurrentAgent, runtime: RuntimeDep) -> LoginOut:
    """The logged-in agent, and the CSRF token to send with changes."""
    async with runtime.db.transaction(write=False) as uow:
        row, csrf = await agent_for_session(uow.session, request.cookies.get(SESSION_COOKIE, ""))
        return LoginOut(agent=agent_out(row), csrf_token=csrf)


@router.get("/agents")
async def list_agents(agent: CurrentAgent, runtime: RuntimeDep) -> list[AgentOut]:
    async with runtime.db.transaction(write=False) as uow:
        rows = await uow.session.scalars(
            select(Agent).where(Agent.active.is_(True)).order_by(Agent.name)
        )
        return [agent_out(a) for a in rows]
