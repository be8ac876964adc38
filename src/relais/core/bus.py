"""The event bus: every change of state is published here after its transaction commits.

Two implementations with one interface:
- ``MemoryBus`` for one process: handlers are called at once, in order.
- ``RedisBus`` for several processes: events go through one Redis pub/sub channel and every
  process (the publisher included) dispatches what it receives to its local handlers.

Delivery is at-most-once in both (Redis pub/sub drops messages while a subscriber is
disconnected). Durability comes from the store: clients resume by per-conversation sequence
(docs/architecture.md, "Nothing lost").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import Protocol

from pydantic import BaseModel, ConfigDict

log = logging.getLogger(__name__)


class Event(BaseModel):
    """A domain event. Subclasses fix ``type`` with a Literal and say who may receive them."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    type: str


Handler = Callable[[Event], None]
Decoder = Callable[[bytes | str], Event]


class Bus(Protocol):
    def subscribe(self, handler: Handler) -> None: ...
    async def publish_many(self, events: Sequence[Event]) -> None: ...
    async def publish(self, event: Event) -> None: ...
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


class _Dispatcher:
    def __init__(self) -> None:
        self._handlers: list[Handler] = []

    def subscribe(self, handler: Handler) -> None:
        self._handlers.append(handler)

    def dispatch(self, event: Event) -> None:
        for handler in self._handlers:
            try:
                handler(event)
            except Exception:
                # One faulty subscriber must not starve the others.
                log.exception("event handler failed for %s", event.type)


class MemoryBus(_Dispatcher):
    async def publish(self, event: Event) -> None:
        self.dispatch(event)

    async def publish_many(self, events: Sequence[Event]) -> None:
        for event in events:
            self.dispatch(event)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


class RedisBus(_Dispatcher):
    CHANNEL = "relais:events"

    def __init__(self, url: str, decode: Decoder) -> None:
        super().__init__()
        import redis.asyncio as redis

        self._redis = redis.from_url(url)
        self._decode = decode
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    async def publish(self, event: Event) -> None:
        await self._redis.publish(self.CHANNEL, event.model_dump_json())

    async def publish_many(self, events: Sequence[Event]) -> None:
        if len(events) == 1:
            await self.publish(events[0])
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for event in events:
                pipe.publish(self.CHANNEL, event.model_dump_json())
            await pipe.execute()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name="redis-bus")
        await asyncio.wait_for(self._subscribed.wait(), timeout=10)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._redis.aclose()

    async def _listen(self) -> None:
        delay = 0.1
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(self.CHANNEL)
                    self._subscribed.set()
                    delay = 0.1
                    async for message in pubsub.listen():
                        if message.get("type") != "message":
                            continue
                        try:
                            event = self._decode(message["data"])
                        except ValueError:
                            log.exception("undecodable event on the bus")
                            continue
                        self.dispatch(event)
            except asyncio.CancelledError:
                raise
            except Exception:
                # Clients notice missed events by sequence and resume from the store.
                log.warning("redis bus disconnected; retrying in %.1fs", delay, exc_info=True)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
