"""Rate limits and attachment checks, without I/O."""

from __future__ import annotations

import pytest

from relais.conversations.attachments import AttachmentStore, safe_filename, sniff
from relais.core.errors import Invalid, RateLimited, TooLarge
from relais.core.ratelimit import MemoryRateLimiter


async def test_memory_rate_limiter_refuses_past_the_limit_per_key() -> None:
    limiter = MemoryRateLimiter()
    for _ in range(3):
        await limiter.hit("ip-1", 3)
    with pytest.raises(RateLimited):
        await limiter.hit("ip-1", 3)
    await limiter.hit("ip-2", 3)


def test_types_come_from_content_not_from_names() -> None:
    assert sniff(b"\x89PNG\r\n\x1a\n....") == "image/png"
    assert sniff(b"%PDF-1.7") == "application/pdf"
    assert sniff(b"hello") == "text/plain"
    assert sniff(b"<html><script>alert(1)</script>") is None
    assert sniff(b"<svg onload=alert(1)>") is None
    assert sniff(b"MZ\x90\x00\x03\x00\xff\xfe") is None


def test_store_refuses_big_empty_and_unknown_files(tmp_path: object) -> None:
    store = AttachmentStore(tmp_path, max_bytes=100, allowed_types=["text/plain"])  # type: ignore[arg-type]  # a Path
    assert store.check(b"fine") == "text/plain"
    with pytest.raises(TooLarge):
        store.check(b"x" * 101)
    with pytest.raises(Invalid):
        store.check(b"")
    with pytest.raises(Invalid):
        store.check(b"%PDF-1.7")


def test_file_names_cannot_climb_out_or_carry_markup() -> None:
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("..\\..\\boot.ini") == "boot.ini"
    assert safe_filename("<img src=x>.png") == "_img src_x_.png"
    assert safe_filename(None) == "file"
