"""Visitor tokens and host-site identity tokens refuse anything not signed as expected."""

from __future__ import annotations

import base64
import json

import jwt
import pytest

from relais.identity.tokens import (
    InvalidToken,
    issue_site_identity,
    issue_visitor_token,
    read_site_identity,
    read_visitor_token,
)

SECRET = "s" * 40
KEYS = {"k1": "k" * 40}


def _unsigned(claims: dict[str, object], header: dict[str, object]) -> str:
    def part(obj: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(claims)}."


def test_visitor_token_round_trip() -> None:
    assert read_visitor_token(SECRET, issue_visitor_token(SECRET, "v1", days=1)) == "v1"


@pytest.mark.parametrize(
    "token",
    [
        issue_visitor_token("other" * 10, "v1", days=1),
        issue_visitor_token(SECRET, "v1", days=-1),
        _unsigned({"sub": "v1", "aud": "relais:visitor", "exp": 9999999999}, {"alg": "none"}),
        jwt.encode({"sub": "v1", "aud": "relais:visitor"}, SECRET, algorithm="HS256"),  # no exp
        jwt.encode({"sub": "v1", "aud": "other", "exp": 9999999999}, SECRET, algorithm="HS256"),
        "not.a.token",
    ],
    ids=["forged", "expired", "alg-none", "no-expiry", "wrong-audience", "garbage"],
)
def test_bad_visitor_tokens_are_refused(token: str) -> None:
    with pytest.raises(InvalidToken):
        read_visitor_token(SECRET, token)


def test_site_identity_round_trip() -> None:
    token = issue_site_identity(KEYS["k1"], "k1", "cust-1", email="a@b.fr", name="Ann")
    identity = read_site_identity(KEYS, token)
    assert (identity.external_id, identity.email, identity.name) == ("cust-1", "a@b.fr", "Ann")


@pytest.mark.parametrize(
    "token",
    [
        issue_site_identity("x" * 40, "k1", "cust-1"),
        issue_site_identity(KEYS["k1"], "unknown", "cust-1"),
        issue_site_identity(KEYS["k1"], "k1", "cust-1", minutes=-1),
        _unsigned({"sub": "cust-1", "exp": 9999999999}, {"alg": "none", "kid": "k1"}),
        jwt.encode({"sub": "cust-1"}, KEYS["k1"], algorithm="HS256", headers={"kid": "k1"}),
    ],
    ids=["forged", "unknown-kid", "expired", "alg-none", "no-expiry"],
)
def test_bad_identities_are_refused(token: str) -> None:
    with pytest.raises(InvalidToken):
        read_site_identity(KEYS, token)
