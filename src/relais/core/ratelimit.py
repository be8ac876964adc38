"""Fixed-window rate limits for anonymous endpoints: in memory, or shared through Redis."""

from __future__ import annotations

import ipaddress
import time
from typing import Any, Protocol

from relais.core.errors import RateLimited


def address_bucket(ip: str) -> str:
    """What a per-address limit counts: an IPv4 address, or the /64 network of an IPv6 one.

    One subscriber gets a whole /64 (RFC 6177), so an IPv6 client can take a fresh address
    for every request: counted one by one, an IPv6 flood would never reach a limit. An
    IPv4-mapped address counts as its IPv4 address; anything that is not an address (a test
    client, "unknown") as it is."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(address), 64), strict=False))
    return str(address)


class RateLimiter(Protocol):
    async def hit(self, key: str, limit: int, window_s: int = 60) -> None:
        """Count one request for ``key``; raise RateLimited past ``limit`` per window."""


class MemoryRateLimiter:
    def __init__(self) -> None:
        self._windows: dict[str, tuple[int, int]] = {}

    async def hit(self, key: str, limit: int, window_s: int = 60) -> None:
        now = int(time.monotonic())
        window = now // window_s
        current_window, count = self._windows.get(key, (window, 0))
        if current_window != window:
            count = 0
        count += 1
        self._windows[key] = (window, count)
        if len(self._windows) > 100_000:  # bounded memory under a flood of distinct keys
            self._windows = {k: v for k, v in self._windows.items() if v[0] == window}
        if count > limit:
            raise RateLimited("Too many requests; try again later.", retry_after=window_s)


class RedisRateLimiter:
    def __init__(self, redis: Any) -> None:
        self._redis = redis

    async def hit(self, key: str, limit: int, window_s: int = 60) -> None:
        window = int(time.time()) // window_s
        redis_key = f"relais:rl:{key}:{window}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(redis_key)
            pipe.expire(redis_key, window_s * 2)
            count, _ = await pipe.execute()
        if int(count) > limit:
            raise RateLimited("Too many requests; try again later.", retry_after=window_s)
