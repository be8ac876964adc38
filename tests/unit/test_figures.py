"""The wallboard assembled from routing.statistics, by hand-computed cases; and the coalescer
that computes it once for every supervisor."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta

from relais.routing.events import TaskChanged
from relais.routing.statistics import AgentStatusChange, TaskTransition
from relais.supervision.cache import Coalescer
from relais.supervision.figures import AgentInfo, QueueInfo, earliest_start, midnight, wallboard

NOW = datetime(2024, 5, 6, 10, 0, tzinfo=UTC)
SUPPORT = QueueInfo("q1", "Support", ["chat"], frozenset({"team1"}), 20, 0.8)
BILLING = QueueInfo("q2", "Billing", ["chat"], frozenset({"team2"}), 60, 0.9)
AGENTS = [
    AgentInfo("a", "Alice", "available", None, frozenset({"team1"})),
    AgentInfo("b", "Bruno", "away", "lunch", frozenset({"team2"})),
]


def at(minutes: float) -> datetime:
    return NOW + timedelta(minutes=minutes)


def r(
    task: str, queue: str, command: str, before: str | None, after: str, when: datetime,
    agent: str | None = None,
) -> TaskTransition:  # fmt: skip
    return TaskTransition(task, queue, "chat", agent, command, before, after, when)


def answered(
    task: str, queue: str, queued: datetime, answer: datetime, agent: str
) -> list[TaskTransition]:
    return [
        r(task, queue, "create", None, "queued", queued),
        r(task, queue, "reserve", "queued", "reserved", answer, agent),
        r(task, queue, "accept", "reserved", "assigned", answer, agent),
    ]


def test_a_task_queued_before_midnight_and_answered_today_counts_today_with_its_whole_wait() -> (
    None
):
    day = midnight(NOW, "UTC")
    late = answered("late", "q1", day - timedelta(minutes=2), day + timedelta(minutes=1), "a")
    board = wallboard([SUPPORT], AGENTS, late, [], NOW)
    [q] = board.queues
    assert (q.offered, q.answered) == (0, 1), "offered yesterday, answered today"
    assert q.asa_s == 180, "its wait runs from yesterday's entry"
    assert q.service_level_today == 0.0, "3 minutes is over the 20 s target"
    assert sum(i.answered for i in q.intervals) == 1 and q.intervals[0].start == day


def test_all_queues_count_a_transferred_contact_once_and_each_queue_its_own_visit() -> None:
    moved = [
        r("t", "q1", "create", None, "queued", at(-10)),
        r("t", "q2", "transfer", "queued", "queued", at(-9)),
        r("t", "q2", "reserve", "queued", "reserved", at(-8.5), "b"),
        r("t", "q2", "accept", "reserved", "assigned", at(-8.5), "b"),
    ]
    gone = [
        r("g", "q1", "create", None, "queued", at(-5)),
        r("g", "q1", "abandon", "queued", "abandoned", at(-4)),
    ]
    board = wallboard([SUPPORT, BILLING], AGENTS, [*moved, *gone], [], NOW)
    support, billing = board.queues
    assert (support.offered, support.transferred_out, support.abandoned) == (2, 1, 1)
    assert (billing.offered, billing.answered, billing.asa_s) == (1, 1, 30)
    everyone = board.all_queues
    assert (everyone.offered, everyone.answered, everyone.abandoned) == (2, 1, 1)
    assert everyone.asa_s == 90, "across queues the wait runs from the first entry"
    assert everyone.sl_target_s is None, "the queues' targets differ"
    assert everyone.staffing is None and support.staffing is not None


def test_waiting_now_and_the_longest_wait_come_from_open_tasks() -> None:
    waiting = [r("w", "q1", "create", None, "queued", at(-3))]
    board = wallboard([SUPPORT], AGENTS, waiting, [], NOW)
    [q] = board.queues
    assert (q.waiting, q.longest_wait_s) == (1, 180)
    assert (board.all_queues.waiting, board.all_queues.longest_wait_s) == (1, 180)


def test_agents_by_presence_per_queue_load_and_occupancy() -> None:
    statuses = [
        AgentStatusChange("a", "available", midnight(NOW, "UTC")),
        AgentStatusChange("b", "away", midnight(NOW, "UTC")),
    ]
    held = answered("h", "q1", at(-60), at(-60), "a")
    board = wallboard([SUPPORT, BILLING], AGENTS, held, statuses, NOW)
    support, billing = board.queues
    assert support.agents.model_dump() == {"available": 0, "busy": 1, "away": 0, "offline": 0}
    assert billing.agents.model_dump() == {"available": 0, "busy": 0, "away": 1, "offline": 0}
    alice = next(a for a in board.agents if a.id == "a")
    assert alice.tasks == 1
    # Available from midnight (9 h idle) then busy for the last hour.
    assert alice.occupancy == 1 / 10
    assert support.occupancy == 1 / 10 and billing.occupancy is None


def test_records_are_needed_from_midnight_in_each_queues_zone() -> None:
    paris = QueueInfo("q3", "Paris", ["chat"], frozenset(), 20, 0.8, "Europe/Paris")
    assert midnight(NOW, "Europe/Paris") == datetime(2024, 5, 5, 22, 0, tzinfo=UTC)
    assert earliest_start([SUPPORT, paris], NOW) == datetime(2024, 5, 5, 22, 0, tzinfo=UTC)
    just_after = datetime(2024, 5, 6, 0, 10, tzinfo=UTC)
    assert earliest_start([SUPPORT], just_after) == just_after - timedelta(hours=1)
    assert midnight(NOW, "Not/AZone") == datetime(2024, 5, 6, tzinfo=UTC)
    board = wallboard([SUPPORT], AGENTS, [], [], datetime(2024, 5, 6, tzinfo=UTC))
    assert board.queues[0].offered == 0, "at midnight exactly the day is empty, not an error"


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_supervisors_asking_at_once_share_one_computation() -> None:
    coalescer: Coalescer[int] = Coalescer(min_interval_s=0)
    release = asyncio.Event()

    async def compute() -> int:
        await release.wait()
        return coalescer.computed

    waiting = [asyncio.create_task(coalescer.get(compute)) for _ in range(5)]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*waiting) == [0] * 5
    assert coalescer.computed == 1


async def test_an_event_makes_the_next_board_fresh_and_time_alone_ages_it() -> None:
    clock = _Clock()
    coalescer: Coalescer[int] = Coalescer(max_age_s=1, min_interval_s=0, clock=clock)
    values = iter(range(100))

    async def compute() -> int:
        return next(values)

    assert await coalescer.get(compute) == 0
    assert await coalescer.get(compute) == 0, "nothing happened: the same board"
    coalescer.on_event(TaskChanged.model_construct(command="accept"))
    assert await coalescer.get(compute) == 1, "a task moved: computed again"
    clock.now = 1.5
    assert await coalescer.get(compute) == 2, "over a second old: computed again"


async def test_a_change_during_a_computation_is_never_answered_with_the_older_board() -> None:
    coalescer: Coalescer[str] = Coalescer(min_interval_s=0)
    started, release = asyncio.Event(), asyncio.Event()
    runs = iter(["before", "after"])

    async def compute() -> str:
        started.set()
        await release.wait()
        return next(runs)

    first = asyncio.create_task(coalescer.get(compute))
    await started.wait()
    coalescer.invalidate()  # an event arrives while the first board is being computed
    second = asyncio.create_task(coalescer.get(compute))
    await asyncio.sleep(0)
    release.set()
    assert await first == "before"
    assert await second == "after"


async def test_boards_are_computed_at_most_once_per_interval() -> None:
    coalescer: Coalescer[int] = Coalescer(min_interval_s=0.2)
    times: list[float] = []
    loop = asyncio.get_running_loop()

    async def compute() -> int:
        times.append(loop.time())
        return len(times)

    for _ in range(3):
        coalescer.invalidate()
        await coalescer.get(compute)
    assert len(times) == 3
    assert all(b - a >= 0.19 for a, b in itertools.pairwise(times))
