"""What the load generator sent and what arrived: latency, throughput, losses and duplicates.

Every message carries a unique client id; the sender writes it down, the receiving side reports
it. Times are ``time.monotonic()``: on Linux one clock for every process of the machine, so the
orchestrator's kill time and the generator's receive times can be compared.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

Direction = Literal["v2a", "a2v"]


@dataclass(slots=True)
class Sent:
    direction: Direction
    generated: float  # when the scheduler made it (it waits in the outbox while disconnected)
    written: float = 0.0  # when it first went onto a socket
    received: float = 0.0
    message_id: str | None = None
    via: str = ""  # "ws" or "rest": how it first arrived
    receivers: set[int] = field(default_factory=set)  # which clients it reached


@dataclass
class Window:
    """Figures for the messages generated in [start, end)."""

    start: float
    end: float
    sent: int = 0
    delivered: int = 0
    latencies_ms: list[float] = field(default_factory=list)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))
    return ordered[rank]


class Ledger:
    def __init__(self) -> None:
        self.sent: dict[str, Sent] = {}
        self.redelivered = 0  # the same stored message delivered twice to one client
        # One message seen by several agents: a conversation no agent holds yet shows in the
        # whole team's desks. Counted apart: it is the protocol, not a fault.
        self.team_views = 0
        self.duplicated = 0  # one client id stored as two messages (a retry not recognised)
        self.unknown = 0  # a message nobody here sent (another run's, or a bug)
        self.redelivered_via: Counter[str] = Counter()  # "first then second" arrival paths

    def generated(self, client_id: str, direction: Direction, now: float) -> None:
        self.sent[client_id] = Sent(direction, now)

    def written(self, client_id: str, now: float) -> None:
        entry = self.sent.get(client_id)
        if entry is not None and not entry.written:
            entry.written = now

    def received(
        self,
        client_id: str | None,
        message_id: str | None,
        now: float,
        via: str = "ws",
        receiver: int = 0,
    ) -> None:
        entry = self.sent.get(client_id or "")
        if entry is None:
            self.unknown += 1
        elif not entry.received:
            entry.received, entry.message_id, entry.via = now, message_id, via
            entry.receivers.add(receiver)
        elif message_id is not None and message_id != entry.message_id:
            self.duplicated += 1
        elif receiver not in entry.receivers:
            entry.receivers.add(receiver)
            self.team_views += 1
        else:
            self.redelivered += 1
            self.redelivered_via[f"{entry.via} then {via}"] += 1

    def undelivered(self) -> int:
        return sum(1 for s in self.sent.values() if not s.received)

    def window(self, start: float, end: float, direction: Direction = "v2a") -> Window:
        """Latency is counted from the moment the frame was written: what the server adds."""
        w = Window(start, end)
        for s in self.sent.values():
            if s.direction != direction or not start <= s.generated < end:
                continue
            w.sent += 1
            if s.received:
                w.delivered += 1
                w.latencies_ms.append((s.received - (s.written or s.generated)) * 1000)
        return w

    def delivered_between(self, start: float, end: float, direction: Direction = "v2a") -> int:
        return sum(
            1 for s in self.sent.values() if s.direction == direction and start <= s.received < end
        )

    def last_delivery_of(
        self, generated_before: float, not_received_by: float, since: float = 0.0
    ) -> float | None:
        """When the last message generated in [since, generated_before), and still in flight at
        `not_received_by`, arrived: the end of a resume. None while one of them is missing."""
        last = 0.0
        for s in self.sent.values():
            if since <= s.generated < generated_before and not 0 < s.received < not_received_by:
                if not s.received:
                    return None
                last = max(last, s.received)
        return last
