"""``relais mail import FILE.eml|FILE.mbox``: mail from files, through the same intake as IMAP.

Importing the same file again stores nothing new (Message-IDs are unique); a message that can't
be read is stored as unreadable and the import goes on.
"""

from __future__ import annotations

import argparse
import asyncio
import mailbox as mbox
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from relais.config import Settings


def _messages(path: Path) -> Iterator[bytes]:
    with path.open("rb") as file:
        head = file.read(5)
    if head == b"From ":  # mbox: each message after a "From " line
        box = mbox.mbox(path, create=False)
        try:
            for key in box.iterkeys():
                yield box.get_bytes(key)
        finally:
            box.close()
    else:
        yield path.read_bytes()


async def run_import(settings: Settings, args: argparse.Namespace) -> int:
    from relais.channels.email.ingest import ingest
    from relais.channels.email.setup import ensure_mailboxes, intake_config, mailboxes_of
    from relais.conversations.attachments import AttachmentStore
    from relais.core.bus import MemoryBus, RedisBus
    from relais.core.db import Database
    from relais.identity.service import get_or_create_team

    names = [m.name for m in mailboxes_of(settings)]
    name = args.mailbox or names[0]
    if name not in names:
        print(f"error: no mailbox {name!r} (configured: {', '.join(names)})", file=sys.stderr)
        return 2
    files = [Path(f) for f in args.files]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        print(f"error: no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    from relais.app import decode_event

    # Events reach the running servers through Redis when there is one (desks see new mail).
    bus = RedisBus(settings.redis_url, decode_event) if settings.redis_url else MemoryBus()
    db = Database(settings.database_url, bus)
    await bus.start()
    try:
        team = await db.run(lambda uow: get_or_create_team(uow.session, settings.default_team))
        boxes = await ensure_mailboxes(db, settings, team.id)
        a = settings.attachments
        store = AttachmentStore(a.directory, max_bytes=a.max_bytes, allowed_types=a.allowed_types)
        config = intake_config(settings, store, team.id)
        states: Counter[str] = Counter()
        for path in files:
            for raw in _messages(path):
                stored = await ingest(db, config, raw, mailbox=boxes[name], source="import")
                states[stored.state] += 1
        summary = ", ".join(f"{n} {state}" for state, n in sorted(states.items()))
        print(f"imported {sum(states.values())} messages into {name}: {summary or 'none'}")
        return 0
    finally:
        await bus.stop()
        await db.dispose()


def main(settings: Settings, args: argparse.Namespace) -> None:
    raise SystemExit(asyncio.run(run_import(settings, args)))
