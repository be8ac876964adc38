"""The CRM pop URL template and the webhook signature, without any I/O."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from relais.config import Settings
from relais.integrations.cti import parse_template, pop_url
from relais.integrations.signing import (
    InvalidSignature,
    decode_secret,
    headers,
    new_secret,
    sign,
    verify,
)
from relais.integrations.webhooks import Backoff, origin

TEMPLATE = "https://crm.example.com/contacts/{external_id}?task={task_id}"
# 1700000000 in Arabic-Indic digits, which str.isdigit and int() both accept.
ARABIC_INDIC_STAMP = "".join(chr(0x660 + int(d)) for d in "1700000000")


def test_values_are_percent_encoded_whole() -> None:
    t = parse_template(TEMPLATE)
    url = t.render({"external_id": "a/b?c=d#e f&é", "task_id": "t1"})
    assert url == "https://crm.example.com/contacts/a%2Fb%3Fc%3Dd%23e%20f%26%C3%A9?task=t1"


def test_a_missing_value_gives_no_url_and_the_fallback_is_tried_next() -> None:
    fallback = "https://crm.example.com/search?conversation={conversation_id}"
    values = {"external_id": None, "task_id": "t1", "conversation_id": "c1"}
    assert parse_template(TEMPLATE).render(values) is None
    assert pop_url([TEMPLATE, fallback], values) == "https://crm.example.com/search?conversation=c1"
    assert pop_url([TEMPLATE, None], {**values, "external_id": ""}) is None


@pytest.mark.parametrize(
    ("template", "why"),
    [
        ("https://crm.example.com/{nope}", "unknown placeholder"),
        ("https://crm.example.com/{external_id!r}", "no format"),
        ("https://crm.example.com/{external_id:>10}", "no format"),
        ("https://crm.example.com/{0}", "unknown placeholder"),
        ("https://crm.example.com/{}", "unknown placeholder"),
        ("https://crm.example.com/{external_id", "malformed"),
        ("{external_id}", "must start with"),
        ("javascript:alert(1)//{external_id}", "must start with"),
        ("ftp://crm.example.com/{external_id}", "must start with"),
        ("https://crm.example.com{external_id}", "must start with"),  # the value would be the host
        ("https://crm.example.com:{external_id}/", "must start with"),
        ("https://user:pw@crm.example.com/{external_id}", "must start with"),
        ("https:///{external_id}", "must start with"),
    ],
)
def test_a_bad_template_is_refused_at_start_up_with_the_reason(template: str, why: str) -> None:
    with pytest.raises(ValidationError, match=why):
        Settings(cti={"pop_url_template": template})


def test_webhook_settings_are_checked_and_the_secret_never_shown() -> None:
    with pytest.raises(ValidationError, match="needs RELAIS_CTI__WEBHOOK_SECRET"):
        Settings(cti={"webhook_url": "https://hooks.example.com/relais"})
    with pytest.raises(ValidationError, match="whsec_"):
        Settings(cti={"webhook_url": "https://h.example/x", "webhook_secret": "plain"})
    with pytest.raises(ValidationError, match="24 to 64 bytes"):
        Settings(cti={"webhook_url": "https://h.example/x", "webhook_secret": "whsec_QUJD"})
    with pytest.raises(ValidationError, match="http"):
        Settings(cti={"webhook_url": "file:///etc/passwd", "webhook_secret": new_secret()})
    secret = new_secret()
    settings = Settings(cti={"webhook_url": "https://h.example/x", "webhook_secret": secret})
    assert secret not in repr(settings) and secret not in str(settings.model_dump())


@given(st.dictionaries(st.sampled_from(["external_id", "task_id"]), st.text(min_size=1)))
def test_no_value_can_leave_its_place_in_the_url(values: dict[str, str]) -> None:
    url = parse_template(TEMPLATE).render(values)
    if url is not None:
        assert url.startswith("https://crm.example.com/contacts/")
        assert url.count("?") == 1 and "#" not in url


@pytest.mark.parametrize("value", [".", ".."])
def test_a_value_that_is_a_dot_segment_gives_no_url(value: str) -> None:
    """A browser resolves "/contacts/../view" (and "%2e%2e", which is the same to it) to
    "/view": a site identity whose subject is ".." would move the link to another page of the
    CRM. Such a value is treated as missing, so the fallback template is tried."""
    template = "https://crm.example.com/contacts/{external_id}/view"
    assert parse_template(template).render({"external_id": value}) is None
    fallback = "https://crm.example.com/search?c={contact_id}"
    values = {"external_id": value, "contact_id": "c1"}
    assert pop_url([template, fallback], values) == "https://crm.example.com/search?c=c1"
    assert parse_template(template).render({"external_id": "..."}) is not None


def test_signature_known_answer_of_the_standard_webhooks_documentation() -> None:
    key = decode_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    body = b'{"test": 2432232314}'
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == expected


def test_verify_accepts_ours_and_refuses_tampering_replay_and_other_secrets() -> None:
    secret, other = new_secret(), new_secret()
    body = b'{"type":"task.offered"}'
    signed = headers(decode_secret(secret), "msg_1", 1_700_000_000, body)
    verify(secret, signed, body, now=1_700_000_100)
    # During a rotation the header carries two signatures; either one verifies.
    rotated = {**signed, "webhook-signature": f"v1,bm9wZQ== {signed['webhook-signature']}"}
    verify(secret, rotated, body, now=1_700_000_000)
    for bad_headers, bad_body, now in [
        (signed, body + b" ", 1_700_000_000),
        ({**signed, "webhook-id": "msg_2"}, body, 1_700_000_000),
        ({**signed, "webhook-timestamp": "1700000001"}, body, 1_700_000_000),
        (signed, body, 1_700_000_000 + 301),
        (signed, body, 1_700_000_000 - 301),
        ({k: v for k, v in signed.items() if k != "webhook-signature"}, body, 1_700_000_000),
        ({**signed, "webhook-timestamp": "soon"}, body, 1_700_000_000),
        # Digits of other scripts, superscripts, more digits than int() reads: refused as not
        # ours, never an error of another kind (a receiver would answer 500).
        ({**signed, "webhook-timestamp": ARABIC_INDIC_STAMP}, body, 1_700_000_000),
        ({**signed, "webhook-timestamp": "1700000000²"}, body, 1_700_000_000),
        ({**signed, "webhook-timestamp": "9" * 5000}, body, 1_700_000_000),
    ]:
        with pytest.raises(InvalidSignature):
            verify(secret, bad_headers, bad_body, now=now)
    with pytest.raises(InvalidSignature):
        verify(other, signed, body, now=1_700_000_000)


def test_back_off_doubles_with_jitter_and_stays_under_its_cap() -> None:
    backoff = Backoff(base_s=5, max_s=60)
    rng = random.Random(1)
    for attempts, full in [(1, 5), (2, 10), (3, 20), (4, 40), (5, 60), (30, 60)]:
        delays = [backoff.delay(attempts, rng) for _ in range(200)]
        assert all(full / 2 <= d <= full for d in delays)
        assert max(delays) - min(delays) > full / 4, "jittered"


def test_logs_name_the_receiver_by_origin_only() -> None:
    assert origin("https://user:token@hooks.example.com:8443/p/secret?k=v") == (
        "https://hooks.example.com:8443"
    )
