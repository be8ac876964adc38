"""What a running process holds, built once by the composition root (app.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from relais.channels.callback.channel import CallbackChannel
from relais.config import Settings
from relais.conversations.service import Assigner
from relais.core.bus import Bus
from relais.core.db import Database
from relais.core.loop_monitor import LoopMonitor
from relais.core.ratelimit import RateLimiter

if TYPE_CHECKING:
    from relais.conversations.attachments import AttachmentStore
    from relais.realtime.gateway import Gateway
    from relais.routing.leader import RoutingLeader
    from relais.routing.router import AcdRouter


@dataclass
class Runtime:
    settings: Settings
    db: Database
    bus: Bus
    assigner: Assigner
    router: AcdRouter
    leader: RoutingLeader
    limiter: RateLimiter
    gateway: Gateway
    attachments: AttachmentStore
    loop_monitor: LoopMonitor
    default_team_id: str = ""
    callbacks: CallbackChannel = field(default_factory=CallbackChannel)
