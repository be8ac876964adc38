"""The WebSocket endpoint: authenticate, resume, then read client frames until the end."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError
from sqlalchemy import select

from relais.channels.chat.page_views import record_page
from relais.contacts.models import Visitor
from relais.conversations import commands
from relais.conversations.access import held_by_another
from relais.conversations.models import Conversation
from relais.conversations.repository import conversations_out, messages_after, readable_by
from relais.core.errors import AppError
from relais.deps import SESSION_COOKIE
from relais.identity.principals import AgentPrincipal, Principal, VisitorPrincipal
from relais.identity.service import (
    agent_for_session,
    any_agent_available,
    principal_of,
    session_digest,
)
from relais.identity.tokens import InvalidToken, read_visitor_token
from relais.realtime.connection import Connection
from relais.realtime.frames import (
    Hello,
    Page,
    Ping,
    Read,
    Send,
    TypingFrame,
    ack_body,
    client_frame,
    message_body,
)
from relais.routing.models import Task
from relais.routing.schemas import TaskOut
from relais.runtime import Runtime

log = logging.getLogger(__name__)
router = APIRouter()

UNAUTHORIZED, FORBIDDEN_ORIGIN, POLICY = 4401, 4403, 1008
MAX_BAD_FRAMES = 20
HELLO_TIMEOUT_S = 10.0
REPLAY_PER_CONVERSATION = 200
MAX_PENDING_FRAMES = 64
WORKER_DRAIN_S = 10.0


def _dumps(obj: dict[str, Any]) -> str:
    return json.dumps(obj, separators=(",", ":"), default=str)


def _error(code: str, message: str, ref: str | None = None) -> str:
    return _dumps({"type": "error", "code": code, "message": message, "ref": ref})


@router.websocket("/ws")
async def websocket(ws: WebSocket) -> None:
    runtime: Runtime = ws.app.state.runtime
    origin = ws.headers.get("origin")
    await ws.accept()
    try:
        raw = await asyncio.wait_for(ws.receive_text(), HELLO_TIMEOUT_S)
        hello = client_frame.validate_json(raw)
    except (TimeoutError, ValidationError, KeyError, WebSocketDisconnect):
        await _close(ws, UNAUTHORIZED, "send hello first")
        return
    if not isinstance(hello, Hello):
        await _close(ws, UNAUTHORIZED, "send hello first")
        return
    principal, refusal = await _authenticate(runtime, ws, hello, origin)
    if principal is None:
        await _close(ws, *refusal)
        return
    conn = Connection(ws, principal, max_outbox=runtime.settings.chat.max_outbox_frames)
    if isinstance(principal, AgentPrincipal):
        conn.session = session_digest(ws.cookies.get(SESSION_COOKIE, ""))
    writer = asyncio.create_task(conn.write_loop())
    runtime.gateway.add(conn)
    try:
        await _ready_and_replay(runtime, conn, hello.cursors)
        await _read_loop(runtime, ws, conn)
    except WebSocketDisconnect:
        pass
    finally:
        runtime.gateway.remove(conn)
        conn.close()
        with contextlib.suppress(Exception):
            await writer


async def _close(ws: WebSocket, code: int, reason: str) -> None:
    with contextlib.suppress(Exception):
        await ws.close(code, reason)


async def _authenticate(
    runtime: Runtime, ws: WebSocket, hello: Hello, origin: str | None
) -> tuple[Principal | None, tuple[int, str]]:
    settings = runtime.settings
    if hello.token is not None:
        if origin is not None and origin not in settings.widget.allowed_origins:
            return None, (FORBIDDEN_ORIGIN, "origin not allowed")
        try:
            visitor_id = read_visitor_token(settings.secret_key, hello.token)
        except InvalidToken:
            return None, (UNAUTHORIZED, "invalid token")
        async with runtime.db.transaction(write=False) as uow:
            if await uow.session.get(Visitor, visitor_id) is None:
                return None, (UNAUTHORIZED, "invalid token")
        return VisitorPrincipal(visitor_id), (0, "")
    # Agents: the session cookie. A browser sends cookies to any site's WebSocket, so the origin
    # must be the desk's own (cross-site WebSocket hijacking).
    if origin is not None and origin != settings.public_url.rstrip("/"):
        return None, (FORBIDDEN_ORIGIN, "origin not allowed")
    token = ws.cookies.get(SESSION_COOKIE)
    if not token:
        return None, (UNAUTHORIZED, "not logged in")
    try:
        async with runtime.db.transaction(write=False) as uow:
            agent, _ = await agent_for_session(uow.session, token)
            return principal_of(agent), (0, "")
    except AppError:
        return None, (UNAUTHORIZED, "session ended")


async def _ready_and_replay(runtime: Runtime, conn: Connection, cursors: dict[str, int]) -> None:
    """Ready first, then what the client missed, from the store; live frames wait meanwhile.

    The frames are read in one short read transaction and sent after it, so that a slow client
    holds no database connection while its outbox drains."""
    p = conn.principal
    frames: list[tuple[str, str | None, int]] = []
    starts: dict[str, int] = {}
    async with runtime.db.transaction(write=False) as uow:
        session = uow.session
        ready: dict[str, Any] = {
            "type": "ready",
            "heartbeat_s": runtime.settings.chat.heartbeat_seconds,
        }
        if isinstance(p, VisitorPrincipal):
            ready["principal"] = {"kind": "visitor", "id": p.visitor_id, "name": None}
            ready["agents_online"] = await any_agent_available(session)
            query = readable_by(p).order_by(Conversation.created_at.desc()).limit(20)
        else:
            ready["principal"] = {"kind": "agent", "id": p.agent_id, "name": p.name}
            query = _agent_active(p)
        conn.send_ready(_dumps(ready))
        conversations = {c.id: c for c in (await session.scalars(query)).all()}
        # And whatever the client already follows, resolved meanwhile or not: it must hear how
        # each of them ended. readable_by keeps the access check on these ids too.
        known = [cid for cid in list(cursors)[:500] if cid not in conversations]
        if known:
            rows = await session.scalars(readable_by(p).where(Conversation.id.in_(known)))
            conversations.update({c.id: c for c in rows})
        for conversation in await conversations_out(session, list(conversations.values())):
            sync = {
                "type": "conversation",
                "reason": "sync",
                "conversation": conversation.model_dump(mode="json"),
            }
            frames.append((_dumps(sync), None, 0))
            after = cursors.get(conversation.id)
            if after is None and conversation.status == "resolved":
                starts[conversation.id] = conversation.last_seq
                continue
            if held_by_another(p, conversation.assignee_id):
                # A conversation the agent saw while it waited in the queue and another agent
                # took: the sync frame tells the desk so; its messages are not this agent's.
                continue
            # At most REPLAY_PER_CONVERSATION: the heartbeat then shows the client the rest is
            # missing and it pages it over REST, so one resume never holds thousands of frames.
            for message in await messages_after(
                session, conversation.id, after or 0, REPLAY_PER_CONVERSATION
            ):
                body = message_body(message, conversation.status)
                frames.append((body, conversation.id, message.seq))
            starts[conversation.id] = after or 0
        if isinstance(p, AgentPrincipal):
            # The agent's offers and tasks in hand: a reloaded desk shows them again.
            tasks = await session.scalars(
                select(Task).where(
                    Task.agent_id == p.agent_id, Task.state.in_(("reserved", "assigned", "wrap_up"))
                )
            )
            for task in tasks.all():
                sync = {
                    "type": "task",
                    "command": "sync",
                    "task": TaskOut.of(task).model_dump(mode="json"),
                }
                frames.append((_dumps(sync), None, 0))
    for body, conversation_id, seq in frames:
        await conn.replay(body, conversation_id, seq)
    for conversation_id, start in starts.items():
        conn.cursors.setdefault(conversation_id, start)
    await conn.release()


def _agent_active(agent: AgentPrincipal) -> Any:
    query = readable_by(agent).where(Conversation.status != "resolved")
    if not agent.sees_everything:
        # Its own, and those of its teams that wait for somebody.
        query = query.where(
            (Conversation.assignee_id == agent.agent_id) | Conversation.assignee_id.is_(None)
        )
    return query.order_by(Conversation.updated_at.desc()).limit(200)


async def _read_loop(runtime: Runtime, ws: WebSocket, conn: Connection) -> None:
    """Read frames as they come and hand them to a worker that runs them in order.

    Reading never waits on the store: the socket's own pings and pongs keep flowing under load,
    and a client that sends faster than its frames can be handled gets ``busy`` answers for the
    excess (its sends are retried under the same client id) instead of a growing backlog."""
    bad = 0
    max_bytes = runtime.settings.chat.max_frame_bytes
    work: asyncio.Queue[Any] = asyncio.Queue(maxsize=MAX_PENDING_FRAMES)
    worker = asyncio.create_task(_work(runtime, conn, work))
    try:
        while not conn.closed:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            raw = message.get("text")
            if raw is None:
                conn.push(_error("binary_not_supported", "Frames are JSON text."))
                bad += 1
            elif len(raw) > max_bytes:
                conn.push(_error("frame_too_large", f"A frame can be at most {max_bytes} bytes."))
                bad += 1
            else:
                try:
                    frame = client_frame.validate_json(raw)
                except ValidationError as exc:
                    code = "malformed" if _is_json_error(exc) else "invalid_frame"
                    conn.push(_error(code, _first_error(exc)))
                    bad += 1
                else:
                    if isinstance(frame, Ping):
                        conn.push(_dumps({"type": "pong", "ref": frame.ref}))
                    else:
                        try:
                            work.put_nowait(frame)
                        except asyncio.QueueFull:
                            _refuse(conn, frame, "busy", "Too many frames at once; retry.")
            if bad > MAX_BAD_FRAMES:
                await _close(ws, POLICY, "too many bad frames")
                return
    finally:
        # Frames already accepted are finished (their senders wait for the acks), briefly.
        with contextlib.suppress(asyncio.QueueFull):
            work.put_nowait(None)
        try:
            await asyncio.wait_for(worker, WORKER_DRAIN_S)
        except TimeoutError:
            worker.cancel()


async def _work(runtime: Runtime, conn: Connection, work: asyncio.Queue[Any]) -> None:
    while (frame := await work.get()) is not None:
        await _handle(runtime, conn, frame)


def _refuse(conn: Connection, frame: Any, code: str, message: str) -> None:
    ref = getattr(frame, "ref", None)
    if isinstance(frame, Send):
        error = {"code": code, "message": message}
        conn.push(_dumps({"type": "ack", "ref": ref, "ok": False, "error": error}))
    else:
        conn.push(_error(code, message, ref))


def _is_json_error(exc: ValidationError) -> bool:
    return any(e["type"] == "json_invalid" for e in exc.errors())


def _first_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(x) for x in first.get("loc", ()))
    return f"{where}: {first['msg']}" if where else str(first["msg"])


async def _handle(runtime: Runtime, conn: Connection, frame: Any) -> None:
    p = conn.principal
    try:
        if isinstance(frame, Send):
            conn.sending.add(frame.client_id)
            try:
                message, status = await commands.post_message(
                    runtime.db,
                    p,
                    frame.conversation_id,
                    client_id=frame.client_id,
                    body=frame.body,
                    attachment_ids=frame.attachment_ids,
                    max_chars=runtime.settings.chat.max_message_chars,
                    team_id=runtime.default_team_id,
                    assigner=runtime.assigner,
                )
            finally:
                conn.sending.discard(frame.client_id)
            # The message itself, to this connection: the gateway sent it to the author's other
            # connections (its other tabs) as a message frame.
            conn.push(ack_body(frame.ref, message, status))
            # Delivered: a message frame of it that comes later (through another process's bus)
            # is not sent again.
            conn.has_in_ack(message.conversation_id, message.seq)
        elif isinstance(frame, TypingFrame):
            name = p.name if isinstance(p, AgentPrincipal) else None
            event = await commands.typing_event(
                runtime.db, p, frame.conversation_id, frame.typing, name
            )
            await runtime.bus.publish(event)
        elif isinstance(frame, Read):
            await commands.mark_read(runtime.db, p, frame.conversation_id, frame.seq)
        elif isinstance(frame, Page):
            if not isinstance(p, VisitorPrincipal):
                raise AppError("Only visitors report pages.", code="not_a_visitor")
            await record_page(runtime.db, p, frame.url, frame.title)
        elif isinstance(frame, Hello):
            conn.push(_error("already_ready", "hello is sent once."))
    except AppError as exc:
        _refuse(conn, frame, exc.code, exc.message)
    except Exception:
        log.exception("frame %s failed", type(frame).__name__)
        conn.push(_error("internal", "Something went wrong; try again."))
