"""Events of the callback channel."""

from __future__ import annotations

from typing import Literal

from relais.channels.callback.schemas import CallbackOut
from relais.core.bus import Event


class CallbackChanged(Event):
    """A callback request was made, moved, cancelled, dialled or given an outcome. Only its
    visitor receives it (as a ``callback`` frame); agents follow the task (``task`` frames)."""

    type: Literal["callback.changed"] = "callback.changed"
    visitor_id: str
    callback: CallbackOut
