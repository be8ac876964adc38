"""What the callback channel needs at run time, chosen once by the composition root."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from relais.channels.callback.domain import CallbackPolicy, Dialler, TelLinkDialler
from relais.core.clock import utcnow


@dataclass
class CallbackChannel:
    policy: CallbackPolicy = field(default_factory=CallbackPolicy)
    # Places the calls; the default gives the agent a tel: link (domain.TelLinkDialler).
    dialler: Dialler = field(default_factory=TelLinkDialler)
    # The queue callbacks go to, by name; None: the default queue.
    queue: str | None = None
    # How a number typed in national form is read when the widget gives no region.
    default_region: str = "FR"
    # The routing engine's clock (app.build_runtime): slots, the "now" of a request and the
    # time of the next attempt are on the same clock as the timer that enqueues them.
    clock: Callable[[], datetime] = utcnow
