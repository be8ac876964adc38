"""Attachments: limits, types from content, authorised downloads served as attachments."""

from __future__ import annotations

import uuid

from tests.conftest import LiveServer
from tests.helpers import Visitor, login, new_visitor

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def _upload(
    visitor: Visitor, conversation_id: str, name: str, data: bytes, ctype: str
) -> dict:  # type: ignore[type-arg]
    r = await visitor.client.post(
        "/api/v1/attachments",
        data={"conversation_id": conversation_id},
        files={"file": (name, data, ctype)},
        headers=visitor.headers(),
    )
    return {"status": r.status_code, **r.json()}


async def test_upload_send_and_download_as_an_attachment_only_for_participants(
    sqlite_server: LiveServer,
) -> None:
    base = sqlite_server.base
    visitor = await new_visitor(base)
    conv = (await visitor.post("/api/v1/conversations", {"client_id": "s"})).json()
    up = await _upload(visitor, conv["id"], "../../receipt.png", PNG, "text/html")
    assert up["status"] == 201 and up["content_type"] == "image/png"
    assert up["filename"] == "receipt.png"
    r = await visitor.post(
        f"/api/v1/conversations/{conv['id']}/messages",
        {"client_id": "m", "body": "", "attachment_ids": [up["id"]]},
    )
    assert r.status_code == 201
    assert r.json()["attachments"][0]["url"] == f"/api/v1/attachments/{up['id']}"

    r = await visitor.get(f"/api/v1/attachments/{up['id']}")
    assert r.status_code == 200 and r.content == PNG
    assert r.headers["content-disposition"].startswith("attachment")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-security-policy"] == "sandbox"

    alice = await login(base, "alice@test.example")
    assert (await alice.client.get(f"/api/v1/attachments/{up['id']}")).status_code == 200
    olga = await login(base, "olga@test.example")
    assert (await olga.client.get(f"/api/v1/attachments/{up['id']}")).status_code == 404
    stranger = await new_visitor(base)
    assert (await stranger.get(f"/api/v1/attachments/{up['id']}")).status_code == 404
    assert (await stranger.get(f"/api/v1/attachments/{uuid.uuid4().hex}")).status_code == 404
    # An attachment is sent once, by its uploader, in its conversation.
    r = await visitor.post(
        f"/api/v1/conversations/{conv['id']}/messages",
        {"client_id": "again", "body": "x", "attachment_ids": [up["id"]]},
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "attachment_not_found"
    for who in (visitor, alice, olga, stranger):
        await who.close()


async def test_refused_uploads_store_nothing(sqlite_server: LiveServer) -> None:
    visitor = await new_visitor(sqlite_server.base)
    conv = (await visitor.post("/api/v1/conversations", {"client_id": "s"})).json()
    html = await _upload(
        visitor, conv["id"], "x.png", b"<html><script>alert(1)</script>", "image/png"
    )
    assert html["status"] == 422 and html["error"]["code"] == "file_type_not_allowed"
    big = PNG + b"\x00" * sqlite_server.settings.attachments.max_bytes
    too_big = await _upload(visitor, conv["id"], "big.png", big, "image/png")
    assert too_big["status"] == 413
    other = await new_visitor(sqlite_server.base)
    foreign = await _upload(other, conv["id"], "x.png", PNG, "image/png")
    assert foreign["status"] == 404
    directory = sqlite_server.settings.attachments.directory
    assert not directory.exists() or not any(p.is_file() for p in directory.rglob("*"))
    await visitor.close()
    await other.close()
