"""Attachment files: type from content, size limits, storage on disk under opaque keys.

Files are served only through the authorised download endpoint, always as attachments with
``nosniff``, so an uploaded HTML or SVG file can never run in the application's origin.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
from pathlib import Path

from relais.core.errors import Invalid, TooLarge

_SIGNATURES: list[tuple[bytes, str]] = [
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
]


def sniff(head: bytes) -> str | None:
    for signature, content_type in _SIGNATURES:
        if head.startswith(signature):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return None
    # Plain text only: anything that looks like markup is refused rather than guessed at.
    if "\x00" in text or re.search(r"<\s*(html|script|svg|!doctype|\?xml)", text, re.IGNORECASE):
        return None
    return "text/plain"


def safe_filename(name: str | None) -> str:
    name = os.path.basename((name or "").replace("\\", "/"))
    name = re.sub(r"[^\w .()\-]+", "_", name).strip(" .")
    return name[:200] or "file"


class AttachmentStore:
    def __init__(self, directory: Path, *, max_bytes: int, allowed_types: list[str]) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.allowed_types = set(allowed_types)

    def check(self, data: bytes) -> str:
        if len(data) > self.max_bytes:
            raise TooLarge(f"A file can be at most {self.max_bytes // (1024 * 1024)} MB.")
        if not data:
            raise Invalid("The file is empty.", code="file_empty")
        content_type = sniff(data[:4096])
        if content_type is None or content_type not in self.allowed_types:
            raise Invalid("This type of file is not accepted.", code="file_type_not_allowed")
        return content_type

    async def save(self, data: bytes) -> str:
        key = secrets.token_hex(16)
        path = self.path(key)
        await asyncio.to_thread(_write, path, data)
        return key

    def path(self, key: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{32}", key):
            raise ValueError("bad storage key")
        return self.directory / key[:2] / key


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    tmp.write_bytes(data)
    tmp.replace(path)
