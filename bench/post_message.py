"""One chat message through the store: Relais's post, against the same statements on raw SQLite.

    python bench/post_message.py                      # 2,000 conversations, 8,000 posts
    python bench/post_message.py --group 8            # posts arriving 8 at a time
    python bench/post_message.py --quick              # a smoke run

Relais: ``commands.post_message`` (what a `send` frame runs: access check, de-duplication by
client id, the sequence number, the sanitized body and its HTML, the insert, the event), posts
arriving ``--group`` at a time so that the group commit carries them together, as under load.
Every post is a visitor's, to a random conversation among ``--conversations``.

The floor, measured in the same run on a copy of the same database: the four statements a post
cannot avoid (read the conversation, look for the client id, take the next sequence, insert the
message) and one COMMIT per group, on Python's ``sqlite3`` with nothing around them.

Figures: microseconds of wall time per post (one process, nothing else waiting on the loop), and
how many times the floor that is.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

# What the chat bench's visitors write (one in five has Markdown).
from _wspeer import BODIES
from relais.conversations import commands
from relais.core.bus import MemoryBus
from relais.core.clock import utcnow
from relais.core.db import Database
from relais.core.ids import new_id
from relais.identity.principals import VisitorPrincipal
from relais.migrate import upgrade


def _sqlite_now() -> str:
    return utcnow().replace(tzinfo=None).isoformat(sep=" ")


def seed(path: Path, conversations: int) -> list[tuple[str, str]]:
    """A team, and one open conversation per visitor: (conversation id, visitor id) pairs."""
    upgrade(f"sqlite+aiosqlite:///{path}")
    now = _sqlite_now()
    team = new_id()
    pairs = [(new_id(), new_id()) for _ in range(conversations)]
    db = sqlite3.connect(path)
    with db:
        db.execute("INSERT INTO teams (id, name) VALUES (?, 'Support')", (team,))
        db.executemany(
            "INSERT INTO visitors (id, lang, created_at, last_seen_at) VALUES (?, 'en', ?, ?)",
            [(visitor, now, now) for _, visitor in pairs],
        )
        db.executemany(
            "INSERT INTO conversations (id, channel, status, visitor_id, team_id, last_seq,"
            " visitor_read_seq, agent_read_seq, created_at, updated_at)"
            " VALUES (?, 'chat', 'open', ?, ?, 0, 0, 0, ?, ?)",
            [(conversation, visitor, team, now, now) for conversation, visitor in pairs],
        )
    db.close()  # the last connection out checkpoints: the copies need only the main file
    return pairs


class _NoRouting:
    async def route(self, uow: object, conversation: object) -> None:
        raise AssertionError("every post goes to an existing conversation")

    async def resolved(self, uow: object, conversation: object) -> None:
        raise AssertionError("nothing is resolved here")


async def relais_posts(path: Path, pairs: list[tuple[str, str]], posts: int, group: int) -> float:
    """Seconds per post through ``commands.post_message``."""
    db = Database(f"sqlite+aiosqlite:///{path}", MemoryBus(), background_checkpoints=True)
    db.start()
    rng = random.Random(1)

    async def post(conversation_id: str, visitor_id: str, body: str) -> None:
        await commands.post_message(
            db,
            VisitorPrincipal(visitor_id),
            conversation_id,
            client_id=uuid.uuid4().hex,
            body=body,
            attachment_ids=[],
            max_chars=4000,
            team_id="",
            assigner=_NoRouting(),
        )

    try:
        await post(*pairs[0], BODIES[0])  # warm: compiled statements, the writer connection
        started = time.perf_counter()
        for i in range(posts // group):
            await asyncio.gather(
                *(post(*rng.choice(pairs), BODIES[(i + j) % len(BODIES)]) for j in range(group))
            )
        return (time.perf_counter() - started) / (posts // group * group)
    finally:
        await db.dispose()


def floor_posts(path: Path, pairs: list[tuple[str, str]], posts: int, group: int) -> float:
    """Seconds per post for the same statements on raw ``sqlite3``."""
    db = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
        db.execute(f"PRAGMA {pragma}")
    checkpoints = sqlite3.connect(path, isolation_level=None)
    rng = random.Random(1)
    done = 0
    started = time.perf_counter()
    for i in range(posts // group):
        db.execute("BEGIN IMMEDIATE")
        for j in range(group):
            body = BODIES[(i + j) % len(BODIES)]
            conversation_id, visitor_id = rng.choice(pairs)
            client_id, now = uuid.uuid4().hex, _sqlite_now()
            db.execute(
                "SELECT id, status, team_id, assignee_id, visitor_id, last_seq"
                " FROM conversations WHERE id = ?",
                (conversation_id,),
            ).fetchall()
            db.execute(
                "SELECT id FROM messages WHERE conversation_id = ? AND author_kind = 'visitor'"
                " AND author_id = ? AND client_id = ?",
                (conversation_id, visitor_id, client_id),
            ).fetchall()
            (seq,) = db.execute(
                "UPDATE conversations SET last_seq = last_seq + 1, updated_at = ?,"
                " visitor_read_seq = last_seq + 1 WHERE id = ? RETURNING last_seq",
                (now, conversation_id),
            ).fetchone()
            db.execute(
                "INSERT INTO messages (id, conversation_id, seq, client_id, author_kind,"
                " author_id, body, html, created_at) VALUES (?, ?, ?, ?, 'visitor', ?, ?, ?, ?)",
                (new_id(), conversation_id, seq, client_id, visitor_id, body, body, now),
            )
        db.execute("COMMIT")
        done += group
        if done % 256 < group:
            checkpoints.execute("PRAGMA wal_checkpoint(PASSIVE)")
    elapsed = time.perf_counter() - started
    db.close()
    checkpoints.close()
    return elapsed / done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=2000)
    parser.add_argument("--posts", type=int, default=8000)
    parser.add_argument("--group", type=int, default=2, help="posts arriving together")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many passes")
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    args = parser.parse_args()
    if args.quick:
        args.conversations, args.posts, args.repeat = 50, 400, 1
    with tempfile.TemporaryDirectory(prefix="relais-post-") as tmp:
        seeded = Path(tmp) / "seeded.db"
        pairs = seed(seeded, args.conversations)
        relais, floor = [], []
        for attempt in range(args.repeat):
            for name, into in (("floor", floor), ("relais", relais)):
                path = Path(tmp) / f"{name}-{attempt}.db"
                shutil.copy(seeded, path)
                gc.collect()
                if name == "floor":
                    into.append(floor_posts(path, pairs, args.posts, args.group))
                else:
                    into.append(asyncio.run(relais_posts(path, pairs, args.posts, args.group)))
    best_relais, best_floor = min(relais) * 1e6, min(floor) * 1e6
    print(
        f"{args.posts} posts to {args.conversations} conversations, {args.group} at a time"
        f" (best of {args.repeat})"
    )
    print(f"  floor (raw sqlite3, 4 statements)  {best_floor:8.0f} µs a post")
    print(f"  Relais (commands.post_message)     {best_relais:8.0f} µs a post")
    print(f"  ratio                              {best_relais / best_floor:8.1f}x")


if __name__ == "__main__":
    main()
