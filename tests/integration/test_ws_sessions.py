"""An agent's WebSocket lives no longer than the login it was opened with: after a logout, an
expired session or a deactivation, the socket is closed (4401) at the next heartbeat and hears
nothing more, while the sockets of live sessions carry on."""

from __future__ import annotations

import asyncio

from sqlalchemy import update

from relais.identity.models import Agent as AgentRow
from relais.identity.models import AgentSession
from tests.conftest import LiveServer
from tests.helpers import login, new_visitor


async def test_a_socket_is_closed_once_its_login_ends(server: LiveServer) -> None:
    alice = await login(server.base, "alice@test.example")  # Support
    bruno = await login(server.base, "bruno@test.example")  # Support
    sam = await login(server.base, "sam@test.example")  # supervisor
    olga = await login(server.base, "olga@test.example")  # Billing
    sockets = {agent.id: await agent.ws() for agent in (alice, bruno, sam, olga)}

    # Alice logs out (her socket was opened with that login: a stolen cookie's socket, say).
    assert (await alice.post("/api/v1/auth/logout")).status_code == 204
    # Bruno is deactivated by an administrator; Sam's session expires.
    async with server.runtime.db.transaction() as uow:
        await uow.session.execute(
            update(AgentRow).where(AgentRow.id == bruno.id).values(active=False)
        )
        await uow.session.execute(
            update(AgentSession)
            .where(AgentSession.agent_id == sam.id)
            .values(expires_at=AgentSession.created_at)
        )
    await server.runtime.gateway.beat()
    for agent in (alice, bruno, sam):
        code, _ = await asyncio.wait_for(sockets[agent.id].closed, 5)
        assert code == 4401, (agent.info["email"], code)

    # Olga's login is live: her socket stays and gets its heartbeat.
    await sockets[olga.id].wait_for(lambda f: f["type"] == "heartbeat")
    assert not sockets[olga.id].closed.done()
    # A conversation of the Support team now reaches none of the closed sockets.
    frames_before = {agent.id: len(sockets[agent.id].frames) for agent in (alice, bruno, sam)}
    visitor = await new_visitor(server.base)
    visitor_ws = await visitor.ws()
    await visitor_ws.send_message(None, "anyone there?")
    await asyncio.sleep(0.3)
    for agent_id, count in frames_before.items():
        assert len(sockets[agent_id].frames) == count
    for closable in (*sockets.values(), visitor_ws, alice, bruno, sam, olga, visitor):
        await closable.close()
