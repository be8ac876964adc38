"""The REST API as the widget, the desk and integrators use it."""

from __future__ import annotations

import asyncio
import uuid

import httpx

from relais.identity.tokens import issue_site_identity
from tests.conftest import LiveServer
from tests.helpers import assigned, login, new_visitor


async def test_fifty_concurrent_starts_from_one_visitor_give_one_conversation(
    server: LiveServer,
) -> None:
    visitor = await new_visitor(server.base)
    results = await asyncio.gather(
        *[visitor.post("/api/v1/conversations", {"client_id": f"start-{i}"}) for i in range(50)]
    )
    assert {r.status_code for r in results} == {201}
    assert len({r.json()["id"] for r in results}) == 1
    listed = (await visitor.get("/api/v1/conversations")).json()
    assert len(listed) == 1
    await visitor.close()


async def test_concurrent_retries_of_one_message_store_it_once(server: LiveServer) -> None:
    visitor = await new_visitor(server.base)
    conv = (await visitor.post("/api/v1/conversations", {"client_id": "s"})).json()
    path = f"/api/v1/conversations/{conv['id']}/messages"
    results = await asyncio.gather(
        *[visitor.post(path, {"client_id": "same", "body": "only once"}) for _ in range(20)]
    )
    assert {r.json()["id"] for r in results if r.status_code == 201} == {results[0].json()["id"]}
    bodies = [m["body"] for m in (await visitor.get(path)).json() if m["author_kind"] == "visitor"]
    assert bodies == ["only once"]
    await visitor.close()


async def test_agent_sees_only_conversations_of_its_teams_supervisor_sees_all(
    server: LiveServer,
) -> None:
    visitor = await new_visitor(server.base)
    conv = (await visitor.post("/api/v1/conversations", {"client_id": "s", "body": "hi"})).json()
    olga = await login(server.base, "olga@test.example")  # Billing only
    alice = await login(server.base, "alice@test.example")  # Support
    sam = await login(server.base, "sam@test.example")  # supervisor, no team
    path = f"/api/v1/conversations/{conv['id']}/messages"
    assert (await olga.client.get(path)).status_code == 404
    assert conv["id"] not in [
        c["id"] for c in (await olga.client.get("/api/v1/conversations")).json()
    ]
    assert (await alice.client.get(path)).status_code == 200
    assert (await sam.client.get(path)).status_code == 200
    r = await olga.post(path, {"client_id": "x", "body": "sneaky"})
    assert r.status_code == 404
    for who in (olga, alice, sam, visitor):
        await who.close()


async def test_state_changes_need_the_csrf_token(server: LiveServer) -> None:
    alice = await login(server.base, "alice@test.example")
    r = await alice.client.put("/api/v1/agents/me/presence", json={"presence": "available"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
    r = await alice.client.put(
        "/api/v1/agents/me/presence",
        json={"presence": "available"},
        headers={"X-CSRF-Token": "forged"},
    )
    assert r.status_code == 403
    await alice.presence("available")
    await alice.close()


async def test_login_cookie_is_httponly_and_logout_ends_the_session(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.base) as client:
        r = await client.post(
            "/api/v1/auth/login", json={"email": "alice@test.example", "password": "wrong"}
        )
        assert r.status_code == 401 and r.json()["error"]["code"] == "bad_credentials"
        r = await client.post(
            "/api/v1/auth/login",
            json={"email": "nobody@test.example", "password": "correct horse battery"},
        )
        assert r.status_code == 401
    alice = await login(server.base, "alice@test.example")
    await alice.presence("available")
    r = await alice.client.get("/api/v1/auth/me")
    assert r.status_code == 200 and r.json()["agent"]["email"] == "alice@test.example"
    visitor = await new_visitor(server.base)
    ws = await visitor.ws()
    assert (await ws.wait_for(lambda f: f["type"] == "ready"))["agents_online"] is True
    assert (await alice.post("/api/v1/auth/logout")).status_code == 204
    await ws.wait_for(lambda f: f["type"] == "presence" and f["agents_online"] is False)
    await ws.close()
    await visitor.close()
    alice.client.cookies.clear()
    assert (await alice.client.get("/api/v1/auth/me")).status_code == 401
    await alice.close()


async def test_login_sets_httponly_samesite_cookie(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.base) as client:
        r = await client.post(
            "/api/v1/auth/login",
            json={"email": "alice@test.example", "password": "correct horse battery"},
        )
    cookies = r.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("relais_session="))
    assert "HttpOnly" in session and "SameSite=lax" in session


async def test_verified_identity_attaches_the_contact_and_a_forged_one_does_not(
    server: LiveServer,
) -> None:
    secret = server.settings.widget.identity_keys["shop-key"]
    good = issue_site_identity(secret, "shop-key", "cust-42", email="c42@example.com", name="Zoé")
    visitor = await new_visitor(server.base, identity=good)
    conv = (await visitor.post("/api/v1/conversations", {"client_id": "s", "body": "hi"})).json()
    assert conv["contact_id"] is not None and conv["contact_name"] == "Zoé"

    forged = [
        issue_site_identity("not-the-secret-0123456789abcdef0", "shop-key", "cust-42"),
        issue_site_identity(secret, "shop-key", "cust-42", minutes=-5),  # expired
        issue_site_identity(secret, "other-kid", "cust-42"),
        "eyJhbGciOiJub25lIiwia2lkIjoic2hvcC1rZXkifQ.eyJzdWIiOiJjdXN0LTQyIiwiZXhwIjo5OTk5OTk5OTk5fQ.",
    ]
    for token in forged:
        r = await visitor.client.post(
            "/api/v1/visitor/session", json={"identity": token}, headers={"Origin": server.base}
        )
        assert r.status_code == 200
        assert r.json()["identified"] is False
        impostor_token = r.json()["token"]
        r = await visitor.client.get(
            f"/api/v1/conversations/{conv['id']}",
            headers={"Authorization": f"Bearer {impostor_token}", "Origin": server.base},
        )
        assert r.status_code == 404, "a forged identity never reaches the real contact's chats"
    await visitor.close()


async def test_forged_expired_and_unsigned_visitor_tokens_are_refused(server: LiveServer) -> None:
    from relais.identity.tokens import issue_visitor_token

    visitor = await new_visitor(server.base)
    expired = issue_visitor_token(server.settings.secret_key, visitor.id, days=-1)
    forged = issue_visitor_token("another-secret-0123456789abcdef-0123", visitor.id, days=1)
    unsigned = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4IiwiYXVkIjoicmVsYWlzOnZpc2l0b3IifQ."
    for token in (expired, forged, unsigned, "garbage"):
        r = await visitor.client.get(
            "/api/v1/conversations", headers={"Authorization": f"Bearer {token}"}
        )
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_token"
    await visitor.close()


async def test_widget_origins_outside_the_allow_list_are_refused(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.base) as client:
        r = await client.post(
            "/api/v1/visitor/session", json={}, headers={"Origin": "https://evil.example"}
        )
        assert r.status_code == 403 and r.json()["error"]["code"] == "origin_not_allowed"
        r = await client.options(
            "/api/v1/visitor/session",
            headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"},
        )
        assert r.headers["access-control-allow-origin"] == "https://shop.example"


async def test_unknown_conversation_and_bad_bodies_get_clear_errors(server: LiveServer) -> None:
    visitor = await new_visitor(server.base)
    r = await visitor.get(f"/api/v1/conversations/{uuid.uuid4().hex}/messages")
    assert r.status_code == 404
    r = await visitor.get("/api/v1/conversations/" + "x" * 5000)
    assert r.status_code == 404
    conv = (await visitor.post("/api/v1/conversations", {"client_id": "s"})).json()
    path = f"/api/v1/conversations/{conv['id']}/messages"
    r = await visitor.post(path, {"client_id": "c", "body": "x" * 4001})
    assert r.status_code == 422 and r.json()["error"]["code"] == "message_too_long"
    r = await visitor.post(path, {"client_id": "c", "body": "   "})
    assert r.status_code == 422 and r.json()["error"]["code"] == "message_empty"
    r = await visitor.post(path, {"body": "no client id"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid"
    r = await visitor.client.post(path, content=b"\xff\xfe", headers=visitor.headers())
    assert r.status_code == 422
    assert (await visitor.get(path)).json() == []
    await visitor.close()


async def test_resolve_then_rate_and_request_the_transcript(server: LiveServer) -> None:
    alice = await login(server.base, "alice@test.example")
    await alice.presence("available")
    visitor = await new_visitor(server.base)
    conv = (await visitor.post("/api/v1/conversations", {"client_id": "s", "body": "hi"})).json()
    await assigned(visitor, conv["id"], alice.id)
    r = await visitor.post(f"/api/v1/conversations/{conv['id']}/rating", {"score": 5})
    assert r.status_code == 409, "not rated before it is resolved"
    r = await visitor.post(f"/api/v1/conversations/{conv['id']}/resolve")
    assert r.status_code == 403, "a visitor cannot resolve"
    r = await alice.post(f"/api/v1/conversations/{conv['id']}/resolve")
    assert r.status_code == 200 and r.json()["status"] == "resolved"
    r = await visitor.post(
        f"/api/v1/conversations/{conv['id']}/messages", {"client_id": "late", "body": "?"}
    )
    assert r.status_code == 409 and r.json()["error"]["code"] == "conversation_resolved"
    r = await visitor.post(
        f"/api/v1/conversations/{conv['id']}/rating", {"score": 4, "comment": "ok"}
    )
    assert r.status_code == 200 and r.json()["rating"] == 4
    r = await visitor.post(f"/api/v1/conversations/{conv['id']}/rating", {"score": 9})
    assert r.status_code == 422
    r = await visitor.post(
        f"/api/v1/conversations/{conv['id']}/transcript", {"email": "me@example.com"}
    )
    assert r.status_code == 202
    r = await visitor.post(f"/api/v1/conversations/{conv['id']}/transcript", {"email": "nope"})
    assert r.status_code == 422
    # A new conversation can start once the previous one is resolved.
    new = (await visitor.post("/api/v1/conversations", {"client_id": "s2"})).json()
    assert new["id"] != conv["id"]
    await alice.close()
    await visitor.close()


async def test_offline_message_waits_and_goes_to_the_first_agent_available(
    server: LiveServer,
) -> None:
    visitor = await new_visitor(server.base)
    r = await visitor.post(
        "/api/v1/visitor/offline-messages",
        {"client_id": "o1", "name": "Eve", "email": "Eve@Example.com", "body": "Call me maybe"},
    )
    assert r.status_code == 201, r.text
    conv = r.json()
    assert conv["assignee_id"] is None
    bruno = await login(server.base, "bruno@test.example")
    await bruno.presence("available")
    await assigned(bruno, conv["id"], bruno.id)
    context = (await bruno.client.get(f"/api/v1/conversations/{conv['id']}/context")).json()
    assert context["reply_to_email"] == "eve@example.com"
    assert context["contact"] is None, "an unverified e-mail never becomes a contact"
    assert context["visitor"]["claimed_name"] == "Eve"
    await bruno.close()
    await visitor.close()


async def test_contact_panel_shows_history_and_the_page_path(server: LiveServer) -> None:
    secret = server.settings.widget.identity_keys["shop-key"]
    identity = issue_site_identity(secret, "shop-key", "cust-7", name="Paul")
    first = await new_visitor(server.base, identity=identity)
    old = (await first.post("/api/v1/conversations", {"client_id": "a", "body": "old"})).json()
    alice = await login(server.base, "alice@test.example")
    await alice.post(f"/api/v1/conversations/{old['id']}/resolve")
    # Same customer, another browser: the history follows the contact.
    second = await new_visitor(server.base, identity=identity)
    for url, title in [
        (f"{server.base}/demo/shop", "Shop"),
        (f"{server.base}/demo/shop/cart", "Cart"),
    ]:
        r = await second.post("/api/v1/visitor/pages", {"url": url, "title": title})
        assert r.status_code == 204
    r = await second.post("/api/v1/visitor/pages", {"url": "javascript:alert(1)", "title": "x"})
    assert r.status_code == 422
    new = (await second.post("/api/v1/conversations", {"client_id": "b", "body": "new"})).json()
    context = (await alice.client.get(f"/api/v1/conversations/{new['id']}/context")).json()
    assert context["contact"]["name"] == "Paul"
    assert [c["id"] for c in context["past_conversations"]] == [old["id"]]
    assert [p["title"] for p in context["pages"]] == ["Shop", "Cart"]
    assert context["current_page"]["title"] == "Cart"
    assert context["pages"][0]["seconds"] is not None
    for who in (first, second, alice):
        await who.close()


async def test_anonymous_endpoints_are_rate_limited(sqlite_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import make_settings

    live = LiveServer(
        make_settings(
            sqlite_url, tmp_path, rate_limits={"anonymous_per_minute": 5, "login_per_minute": 3}
        )
    )
    await live.start()
    try:
        async with httpx.AsyncClient(base_url=live.base) as client:
            codes = [
                (await client.post("/api/v1/visitor/session", json={})).status_code
                for _ in range(7)
            ]
            assert codes[:5] == [200] * 5 and codes[5:] == [429, 429]
            r = await client.post("/api/v1/visitor/session", json={})
            assert r.json()["error"]["code"] == "rate_limited" and r.headers["retry-after"]
            logins = [
                (
                    await client.post(
                        "/api/v1/auth/login", json={"email": "a@b.c", "password": "x"}
                    )
                ).status_code
                for _ in range(5)
            ]
            assert logins[:3] == [401] * 3 and logins[3:] == [429, 429]

            # One subscriber holds a whole IPv6 /64: a fresh address per request is still one
            # requester (behind a trusted proxy, here the test's own address).
            async def session_from(address: str) -> int:
                r = await client.post(
                    "/api/v1/visitor/session", json={}, headers={"X-Forwarded-For": address}
                )
                return r.status_code

            codes = [await session_from(f"2001:db8:7:7::{i + 1:x}") for i in range(7)]
            assert codes[:5] == [200] * 5 and codes[5:] == [429, 429]
            assert await session_from("2001:db8:7:8::1") == 200, "another network"
            logins = [
                (
                    await client.post(
                        "/api/v1/auth/login",
                        json={"email": "a@b.c", "password": "x"},
                        headers={"X-Forwarded-For": f"2001:db8:7:9::{i + 1:x}"},
                    )
                ).status_code
                for i in range(5)
            ]
            assert logins[:3] == [401] * 3 and logins[3:] == [429, 429]
    finally:
        await live.stop()


async def test_resolving_frees_room_and_the_next_waiting_conversation_follows(
    server: LiveServer,
) -> None:
    alice = await login(server.base, "alice@test.example")  # capacity: 3 chats
    await alice.presence("available")
    visitors = [await new_visitor(server.base) for _ in range(4)]
    convs = [
        (await v.post("/api/v1/conversations", {"client_id": "s", "body": "hi"})).json()
        for v in visitors
    ]
    for conv in convs[:3]:
        await assigned(alice, conv["id"], alice.id)
    sam = await login(server.base, "sam@test.example")
    await assigned(sam, convs[3]["id"], None)
    await alice.post(f"/api/v1/conversations/{convs[0]['id']}/resolve")
    await assigned(alice, convs[3]["id"], alice.id)
    await sam.close()
    for who in (alice, *visitors):
        await who.close()


async def test_a_desk_that_reconnects_hears_how_its_conversations_ended(
    server: LiveServer,
) -> None:
    alice = await login(server.base, "alice@test.example")
    await alice.presence("available")
    visitor = await new_visitor(server.base)
    conv = (await visitor.post("/api/v1/conversations", {"client_id": "s", "body": "hi"})).json()
    sam = await login(server.base, "sam@test.example")
    await sam.post(f"/api/v1/conversations/{conv['id']}/resolve")  # while alice is away
    desk = await alice.ws_with_cursors({conv["id"]: 1})
    synced = await desk.wait_for(lambda f: f["type"] == "conversation")
    assert synced["conversation"]["status"] == "resolved"
    last = await desk.wait_for(
        lambda f: (
            f["type"] == "message"
            and f["message"]["author_kind"] == "system"
            and "resolved" in f["message"]["body"]
        )
    )
    assert last["conversation_status"] == "resolved"
    await desk.close()
    for who in (alice, sam, visitor):
        await who.close()
