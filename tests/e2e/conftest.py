"""Browser fixtures: one context per person, as two people on two machines."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

DEMO_PASSWORD = "relais-demo"
DEMO_AGENTS = ["alice@relais.example", "bruno@relais.example", "sam@relais.example"]


@pytest.fixture
def visitor_page(browser: Any, live_server: str) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    assert not errors, f"the page raised: {errors}"


@pytest.fixture
def agent_page(browser: Any, live_server: str) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    yield page
    context.close()


def log_in(page: Any, base: str, email: str = "alice@relais.example") -> None:
    page.goto(f"{base}/desk")
    page.get_by_test_id("login-email").fill(email)
    page.get_by_test_id("login-password").fill(DEMO_PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.get_by_test_id("presence").wait_for()


@pytest.fixture
def nobody_available(live_server: str) -> None:
    """Every demo agent logged out (offline), whatever earlier tests did."""
    for email in DEMO_AGENTS:
        with httpx.Client(base_url=live_server) as client:
            r = client.post("/api/v1/auth/login", json={"email": email, "password": DEMO_PASSWORD})
            csrf = r.json()["csrf_token"]
            client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
