"""Webhook signatures as the Standard Webhooks specification defines them, so that a receiver
can use any of its libraries, or these few lines.

The signed content is ``{webhook-id}.{webhook-timestamp}.{body}``; the signature is the base64
of its HMAC-SHA256 under the secret (``whsec_`` followed by the base64 of 24 to 64 random
bytes), sent as ``webhook-signature: v1,<base64>`` (several, space-separated, while a secret is
being rotated). A receiver recomputes it over the raw body, compares in constant time, and
refuses a timestamp too far from its clock (a replayed request). Pure.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping

PREFIX = "whsec_"
TOLERANCE_S = 300
_STAMP = re.compile(r"[0-9]{1,12}")


class InvalidSignature(ValueError):
    pass


def decode_secret(secret: str) -> bytes:
    """The key bytes of a ``whsec_`` secret; ``ValueError`` if it is not one."""
    if not secret.startswith(PREFIX):
        raise ValueError("a webhook secret starts with whsec_ (then base64)")
    try:
        key = base64.b64decode(secret[len(PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a webhook secret is whsec_ followed by base64") from None
    if not 24 <= len(key) <= 64:
        raise ValueError("a webhook secret holds 24 to 64 bytes")
    return key


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def sign(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(key: bytes, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(key, msg_id, timestamp, body),
    }


def verify(
    secret: str,
    request_headers: Mapping[str, str],
    body: bytes,
    *,
    now: float,
    tolerance_s: float = TOLERANCE_S,
) -> None:
    """What a receiver runs on each request (headers by lower-case name, the raw body, its
    clock); ``InvalidSignature`` if the request is not ours or too old or too new."""
    key = decode_secret(secret)
    msg_id = request_headers.get("webhook-id", "")
    stamp = request_headers.get("webhook-timestamp", "")
    # ASCII digits only, and few of them: str.isdigit also takes other scripts' digits and
    # superscripts, and int() refuses more than 4,300 digits with a ValueError.
    if not msg_id or not _STAMP.fullmatch(stamp):
        raise InvalidSignature("missing webhook-id or webhook-timestamp")
    if abs(now - int(stamp)) > tolerance_s:
        raise InvalidSignature("timestamp outside the tolerance")
    expected = sign(key, msg_id, int(stamp), body).encode()
    for candidate in request_headers.get("webhook-signature", "").split():
        if hmac.compare_digest(candidate.encode(), expected):
            return
    raise InvalidSignature("no matching signature")
