"""The task state machine of the ACD. Pure: no I/O, no framework.

    scheduled ──(slot opens)──> queued ──(engine offers)──> reserved ──(accept)──> assigned
                                  ^  ^                          │                      │
                                  │  └──(reject / no answer in time / transfer)───────┘│
                                  │                                                  (complete)
                                  └──────(retry later: callback not reached)─── assigned│
                                                                                        v
                                                           completed <──(end)──── wrap_up

    scheduled ──(reschedule)──> scheduled                    (a callback's visitor changes the time)
    scheduled, queued, reserved ──(cancel)──> cancelled      (the customer or a supervisor)
    queued, reserved ──(abandon)──> abandoned                (the customer left while waiting)
    queued ──(time out)──> timed_out                         (the queue's last overflow step)

A task is one unit of work whatever the channel: a chat, an e-mail, a callback, a call. Every
transition is recorded (routing.models.TaskEvent) and the wallboard's figures come from those
records (docs/metrics.md).
"""

from __future__ import annotations

import logging
from typing import Literal, get_args

TaskState = Literal[
    "scheduled",
    "queued",
    "reserved",
    "assigned",
    "wrap_up",
    "completed",
    "cancelled",
    "abandoned",
    "timed_out",
]
TaskCommand = Literal[
    "enqueue",
    "reserve",
    "accept",
    "reject",
    "expire",
    "transfer",
    "retry_later",
    "reschedule",
    "complete",
    "end_wrap_up",
    "cancel",
    "abandon",
    "time_out",
]
Channel = Literal["chat", "email", "callback", "voice"]

CHANNELS: tuple[Channel, ...] = get_args(Channel)
FINAL_STATES: frozenset[TaskState] = frozenset({"completed", "cancelled", "abandoned", "timed_out"})
WAITING_STATES: frozenset[TaskState] = frozenset({"queued", "reserved"})
# States in which a task holds a slot of its agent's capacity.
HOLDING_STATES: frozenset[TaskState] = frozenset({"reserved", "assigned", "wrap_up"})

log = logging.getLogger(__name__)


class IllegalTaskTransition(Exception):
    def __init__(self, state: TaskState, command: TaskCommand) -> None:
        super().__init__(f"cannot {command} a task that is {state}")
        self.state = state
        self.command = command


_TRANSITIONS: dict[tuple[TaskState, TaskCommand], TaskState] = {
    ("scheduled", "enqueue"): "queued",
    ("queued", "reserve"): "reserved",
    ("reserved", "accept"): "assigned",
    ("reserved", "reject"): "queued",
    ("reserved", "expire"): "queued",
    ("queued", "transfer"): "queued",
    ("reserved", "transfer"): "queued",
    ("assigned", "transfer"): "queued",
    ("assigned", "retry_later"): "scheduled",
    ("scheduled", "reschedule"): "scheduled",
    ("assigned", "complete"): "wrap_up",
    ("wrap_up", "end_wrap_up"): "completed",
    ("scheduled", "cancel"): "cancelled",
    ("queued", "cancel"): "cancelled",
    ("reserved", "cancel"): "cancelled",
    ("queued", "abandon"): "abandoned",
    ("reserved", "abandon"): "abandoned",
    ("queued", "time_out"): "timed_out",
}


def task_transition(state: TaskState, command: TaskCommand, *, task_id: str = "") -> TaskState:
    """The state after ``command``; an illegal command is an explicit error."""
    try:
        new = _TRANSITIONS[(state, command)]
    except KeyError:
        raise IllegalTaskTransition(state, command) from None
    log.debug("task %s: %s -> %s -> %s", task_id, state, command, new)
    return new


def allowed(state: TaskState, command: TaskCommand) -> bool:
    return (state, command) in _TRANSITIONS
