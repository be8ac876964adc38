"""API models of conversations and messages (also the payload of their events)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["open", "pending", "resolved"]
AuthorKind = Literal["visitor", "agent", "system"]


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="forbid")


class ConversationRef(_Out):
    """Just what an access check needs: who may receive anything about this conversation."""

    id: str
    visitor_id: str | None
    team_id: str
    assignee_id: str | None


class ConversationOut(_Out):
    id: str
    status: Status
    channel: str
    subject: str | None
    visitor_id: str | None
    contact_id: str | None
    contact_name: str | None = None
    team_id: str
    assignee_id: str | None
    assignee_name: str | None = None
    last_seq: int
    visitor_read_seq: int
    agent_read_seq: int
    rating: int | None
    created_at: datetime
    updated_at: datetime

    def ref(self) -> ConversationRef:
        return ConversationRef(
            id=self.id,
            visitor_id=self.visitor_id,
            team_id=self.team_id,
            assignee_id=self.assignee_id,
        )


class AttachmentOut(_Out):
    id: str
    filename: str
    content_type: str
    size: int
    url: str


class MessageOut(_Out):
    id: str
    conversation_id: str
    seq: int
    client_id: str | None
    author_kind: AuthorKind
    author_id: str | None
    author_name: str | None
    body: str
    html: str
    attachments: list[AttachmentOut] = Field(default_factory=list)
    created_at: datetime


class StartConversation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client_id: str = Field(min_length=1, max_length=64)
    body: str | None = None


class SendMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client_id: str = Field(min_length=1, max_length=64)
    body: str = ""
    attachment_ids: list[str] = Field(default_factory=list, max_length=10)


class ReadReceipt(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seq: int = Field(ge=0)


class Rating(BaseModel):
    model_config = ConfigDict(extra="forbid")
    score: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=2000)


class TranscriptAsk(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class OfflineMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    body: str = Field(min_length=1)
