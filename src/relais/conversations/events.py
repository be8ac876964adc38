"""Events of conversations. Each says who may receive it through its ConversationRef."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from relais.conversations.schemas import ConversationOut, ConversationRef, MessageOut
from relais.core.bus import Event


class ConversationChanged(Event):
    type: Literal["conversation.changed"] = "conversation.changed"
    reason: Literal["created", "assigned", "unassigned", "resolved", "rated", "reopened"]
    conversation: ConversationOut

    @property
    def ref(self) -> ConversationRef:
        return self.conversation.ref()


class MessageCreated(Event):
    type: Literal["message.created"] = "message.created"
    ref: ConversationRef
    message: MessageOut
    # A message moves the conversation between open and pending; carried here rather than in
    # a second event per message.
    conversation_status: Literal["open", "pending", "resolved"]


class ReadUpTo(Event):
    type: Literal["conversation.read"] = "conversation.read"
    ref: ConversationRef
    reader_kind: Literal["visitor", "agent"]
    seq: int


class Typing(Event):
    type: Literal["conversation.typing"] = "conversation.typing"
    ref: ConversationRef
    author_kind: Literal["visitor", "agent"]
    author_name: str | None
    typing: bool


class VisitorPageViewed(Event):
    type: Literal["visitor.page_viewed"] = "visitor.page_viewed"
    # The visitor's conversation that is not resolved: agents who may read it see the page.
    ref: ConversationRef
    url: str
    title: str
    at: datetime
