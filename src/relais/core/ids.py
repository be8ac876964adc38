"""Identifiers: time-ordered (UUIDv7 layout) so that primary keys sort by creation."""

from __future__ import annotations

import os
import time
import uuid


def new_id() -> str:
    """A 32-hex-character UUIDv7: 48 bits of milliseconds, then random bits."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms << 80) | rand
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return uuid.UUID(int=value).hex
