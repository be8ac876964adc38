"""Client frames: closed, typed models. Anything else is refused with an ``error`` frame.

Server frames are built in gateway.py from events; their shapes are documented in docs/api.md.
The two every chat message makes (its ``message`` frame and the sender's ``ack``) are built
here, the message serialised by pydantic's own encoder: a third of the cost of ``model_dump``
then ``json.dumps``.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from relais.conversations.schemas import MessageOut


def message_body(message: MessageOut, conversation_status: str) -> str:
    """A ``message`` frame, without its ``seq`` (relais.realtime.connection splices it in)."""
    return (
        f'{{"type":"message","message":{message.model_dump_json()},'
        f'"conversation_status":{json.dumps(conversation_status)}}}'
    )


def ack_body(ref: str | None, message: MessageOut, conversation_status: str) -> str:
    """The ``ack`` of a send that was stored: the message, as its ``message`` frame has it."""
    return (
        f'{{"type":"ack","ref":{json.dumps(ref)},"ok":true,'
        f'"message":{message.model_dump_json()},'
        f'"conversation_status":{json.dumps(conversation_status)}}}'
    )


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Hello(_Frame):
    type: Literal["hello"]
    token: str | None = Field(default=None, max_length=2000)
    cursors: dict[str, int] = Field(default_factory=dict, max_length=500)


class Send(_Frame):
    type: Literal["send"]
    ref: str | None = Field(default=None, max_length=64)
    conversation_id: str | None = Field(default=None, max_length=32)
    client_id: str = Field(min_length=1, max_length=64)
    body: str = ""
    attachment_ids: list[str] = Field(default_factory=list, max_length=10)


class TypingFrame(_Frame):
    type: Literal["typing"]
    conversation_id: str = Field(max_length=32)
    typing: bool


class Read(_Frame):
    type: Literal["read"]
    conversation_id: str = Field(max_length=32)
    seq: int = Field(ge=0)


class Page(_Frame):
    type: Literal["page"]
    url: str = Field(min_length=1, max_length=2000)
    title: str = Field(default="", max_length=300)


class Ping(_Frame):
    type: Literal["ping"]
    ref: str | None = Field(default=None, max_length=64)


ClientFrame = Annotated[
    Hello | Send | TypingFrame | Read | Page | Ping, Field(discriminator="type")
]
client_frame = TypeAdapter[ClientFrame](ClientFrame)
