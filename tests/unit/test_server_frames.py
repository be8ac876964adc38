"""The chat message's two frames, built as strings, say exactly what the message model says."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from relais.conversations.schemas import MessageOut
from relais.realtime.frames import ack_body, message_body


def _message() -> MessageOut:
    return MessageOut(
        id="m" * 32,
        conversation_id="c" * 32,
        seq=7,
        client_id='quote " and \\ backslash',
        author_kind="visitor",
        author_id="v" * 32,
        author_name="Zoé </script>",
        body="héllo **there** \u2028",
        html="<p>héllo <strong>there</strong></p>",
        created_at=datetime(2026, 11, 23, 10, 0, 0, 123456, tzinfo=UTC),
        attachments=[],
    )


def test_the_message_frame_is_the_models_json() -> None:
    message = _message()
    frame = json.loads(message_body(message, "open"))
    assert frame == {
        "type": "message",
        "message": message.model_dump(mode="json"),
        "conversation_status": "open",
    }


def test_the_ack_carries_the_same_message_and_its_ref() -> None:
    message = _message()
    for ref in ("r-1", None, 'odd "ref"'):
        frame = json.loads(ack_body(ref, message, "pending"))
        assert frame == {
            "type": "ack",
            "ref": ref,
            "ok": True,
            "message": message.model_dump(mode="json"),
            "conversation_status": "pending",
        }
