"""Events of the ACD."""

from __future__ import annotations

from typing import Literal

from relais.core.bus import Event
from relais.routing.schemas import TaskOut


class TaskChanged(Event):
    """A task moved. Its agent, the supervisors and the routing engine receive it; the
    engine reads the whole snapshot, so the event is enough to follow the task."""

    type: Literal["task.changed"] = "task.changed"
    command: str
    task: TaskOut
    # Who held the task before this move (a rejected offer counts as the agent's miss).
    previous_agent_id: str | None = None


class CallbackOffered(Event):
    """A queue's overflow step offers the waiting visitor a callback instead of waiting on."""

    type: Literal["task.callback_offered"] = "task.callback_offered"
    task_id: str
    visitor_id: str | None
    conversation_id: str | None


class QueueChanged(Event):
    """A queue was created or its rules changed: the engine re-reads queues and agents."""

    type: Literal["queue.changed"] = "queue.changed"
    queue_id: str


class QueuePosition(Event):
    """Where a waiting visitor's task stands: its place in the queue and the estimated wait."""

    type: Literal["task.position"] = "task.position"
    task_id: str
    visitor_id: str
    conversation_id: str | None
    position: int  # 1 = next
    estimated_wait_s: float | None
