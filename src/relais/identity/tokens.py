"""Signed tokens: the visitor's own token, and the identity a host site vouches for.

Both are JWTs verified with an explicit algorithm list, so ``alg: none`` and algorithm confusion
are refused by construction, and with required claims, so a token without expiry is invalid.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from relais.core.clock import utcnow

_VISITOR_AUDIENCE = "relais:visitor"
_ALGORITHMS = ["HS256"]


class InvalidToken(Exception):
    pass


def issue_visitor_token(
    secret: str, visitor_id: str, *, days: int, now: datetime | None = None
) -> str:
    now = now or utcnow()
    claims = {
        "sub": visitor_id,
        "aud": _VISITOR_AUDIENCE,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(days=days)).timestamp()),
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def read_visitor_token(secret: str, token: str) -> str:
    """The visitor id, or InvalidToken (forged, expired, wrong audience, unsigned)."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=_ALGORITHMS,
            audience=_VISITOR_AUDIENCE,
            options={"require": ["exp", "sub", "aud"]},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject:
        raise InvalidToken("no subject")
    return subject


@dataclass(frozen=True, slots=True)
class SiteIdentity:
    """Who the host site says the visitor is, checked against the site's signing key."""

    external_id: str
    email: str | None
    name: str | None


def read_site_identity(keys: dict[str, str], token: str) -> SiteIdentity:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    kid = header.get("kid")
    if not isinstance(kid, str) or kid not in keys:
        raise InvalidToken("unknown key id")
    try:
        claims = jwt.decode(
            token, keys[kid], algorithms=_ALGORITHMS, options={"require": ["exp", "sub"]}
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    sub, email, name = claims.get("sub"), claims.get("email"), claims.get("name")
    if not isinstance(sub, str) or not sub or len(sub) > 200:
        raise InvalidToken("bad subject")
    return SiteIdentity(
        external_id=sub,
        email=email if isinstance(email, str) and len(email) <= 254 else None,
        name=name if isinstance(name, str) and len(name) <= 200 else None,
    )


def issue_site_identity(
    secret: str,
    kid: str,
    external_id: str,
    *,
    email: str | None = None,
    name: str | None = None,
    minutes: int = 60,
) -> str:
    """What a host site does on its server (used by the demo shop and by tests)."""
    now = utcnow()
    claims: dict[str, object] = {
        "sub": external_id,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=minutes)).timestamp()),
    }
    if email:
        claims["email"] = email
    if name:
        claims["name"] = name
    return jwt.encode(claims, secret, algorithm="HS256", headers={"kid": kid})
