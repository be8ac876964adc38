"""The wallboard's data (definitions: docs/metrics.md): per queue and for all queues, what
waits now and how the day went; per agent, presence, load and occupancy. Supervisors' pages
fetch it again whenever a task or presence frame arrives on their WebSocket (at most once a
second each); the process computes it once for all of them (supervision/cache.py)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fastapi import APIRouter, Request

from relais.core.db import Database
from relais.deps import CurrentAgent, RuntimeDep
from relais.routing.endpoints import check_supervisor
from relais.supervision.cache import Coalescer
from relais.supervision.figures import earliest_start, wallboard
from relais.supervision.repository import (
    load_agents,
    load_queues,
    load_sla,
    load_statuses,
    load_transitions,
)
from relais.supervision.schemas import Wallboard

router = APIRouter(tags=["supervision"])


async def compute_wallboard(db: Database, now: datetime | None = None) -> Wallboard:
    """Read the records (one read transaction) and compute the board."""
    now = now or datetime.now(UTC)
    async with db.transaction(write=False) as uow:
        queues = await load_queues(uow.session)
        since = earliest_start(queues, now)
        agents = await load_agents(uow.session)
        transitions = await load_transitions(uow.session, since)
        statuses = await load_statuses(uow.session, since)
        sla = await load_sla(uow.session)
    # Pure CPU work of up to a fraction of a second: off the event loop, so that sockets flow.
    return await asyncio.to_thread(wallboard, queues, agents, transitions, statuses, now, sla)


def _coalescer(request: Request, runtime: RuntimeDep) -> Coalescer[Wallboard]:
    """The app's one coalescer, made on first use and told of every event of the bus."""
    state = request.app.state
    coalescer: Coalescer[Wallboard] | None = getattr(state, "wallboard_coalescer", None)
    if coalescer is None:
        coalescer = Coalescer()
        runtime.bus.subscribe(coalescer.on_event)
        state.wallboard_coalescer = coalescer
    return coalescer


@router.get("/wallboard")
async def get_wallboard(request: Request, agent: CurrentAgent, runtime: RuntimeDep) -> Wallboard:
    check_supervisor(agent)
    return await _coalescer(request, runtime).get(lambda: compute_wallboard(runtime.db))
