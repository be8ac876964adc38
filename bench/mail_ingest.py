"""Mail ingestion: reading incoming messages, against the floor of the stdlib parser.

    python bench/mail_ingest.py                  # 2,000 HTML mails, 500 with an attachment
    python bench/mail_ingest.py --quick          # a smoke run
    python bench/mail_ingest.py --messages 5000 --repeat 5

Two kinds of generated mail, each message different (ids, names, amounts):
- a typical HTML mail of ~8 KB: multipart/alternative, text and HTML, a reply in a thread
  (In-Reply-To, References, "Re: [#n]" subject), encoded-word names, a signature and a quote;
- the same with a 100 KB PDF-like attachment (base64, ~137 KB on the wire).

Parse part, one row per stage, messages per second over all messages (best of ``--repeat``):
- floor: ``email.parser.BytesParser`` with compat32, the parse alone (no decoding of anything);
- stdlib policy.default: the same with the modern policy, reading body and attachments
  through ``get_body`` / ``iter_attachments`` as the stdlib documents it;
- Relais: ``parse_message`` + ``classify_automatic`` + ``thread_keys``, i.e. everything the
  channel does before it touches the store (attachments are sized, not copied).

Store part, messages per second through the whole intake (``ingest``: parse, classify, thread
lookup, contact, the admin's triage rules (three), the message with its sanitized HTML, raw
source and attachments written to the attachment store, a task of the e-mail queue, and an
acknowledgement built and put in the outbox), one message after another as one mailbox's
fetcher stores them, into a new SQLite database and, with ``--postgres URL`` (a role that may
create databases), a new PostgreSQL database:

    python bench/mail_ingest.py --postgres postgresql+asyncpg://relais:relais@127.0.0.1/postgres

``main`` builds the mails once and runs each part on them in turn.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import random
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from relais.channels.email.automatic import classify_automatic
from relais.channels.email.parse import parse_message
from relais.channels.email.threading import thread_keys

OWN_ADDRESSES = ("support@relais.example",)
NAMES = ["Émilie Durand", "Jürgen Weiß", "Sofia Rossi", "Paul Martin", "Zoë Ångström"]
WORDS = ["commande", "livraison", "facture", "colis", "retour", "échange", "remboursement"]


def _name_field(name: str) -> str:
    encoded = base64.b64encode(name.encode()).decode()
    return f"=?utf-8?B?{encoded}?="


def html_mail(i: int, rng: random.Random, attachment: bytes | None = None) -> bytes:
    """A reply in a thread, text and HTML, ~8 KB; with ``attachment``, multipart/mixed around it."""
    name = rng.choice(NAMES)
    sentences = [
        " ".join(rng.choice(WORDS) for _ in range(12)).capitalize() + "." for _ in range(30)
    ]
    text = "\n\n".join(sentences[:8])
    quote = "\n".join(f"> {s}" for s in sentences[8:])
    paragraphs = "".join(
        f'<p style="font-family:Arial;font-size:11pt;color:#222">{s}</p>' for s in sentences[:8]
    )
    html = (
        f"<html><head><style>p{{margin:0}}</style></head><body>{paragraphs}"
        f'<p>--<br>{name}<br><img src="https://cdn.example.com/logo.png" alt="logo"></p>'
        f'<div class="gmail_quote"><blockquote>{"<br>".join(sentences[8:])}</blockquote></div>'
        "</body></html>"
    )
    boundary = f"alt-{i:08d}"
    alternative = (
        f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'
        f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Transfer-Encoding: 8bit\r\n\r\n{text}\n\n-- \n{name}\n\n"
        f"Le 3 juin 2024 à 10:00, Support <support@relais.example> a écrit :\n{quote}\r\n"
        f"--{boundary}\r\nContent-Type: text/html; charset=utf-8\r\n"
        f"Content-Transfer-Encoding: 8bit\r\n\r\n{html}\r\n--{boundary}--\r\n"
    )
    head = (
        f"Received: from mx{i % 7}.client.example.com by mx.relais.example; "
        "Mon, 3 Jun 2024 10:00:00 +0200\r\n"
        f"From: {_name_field(name)} <client{i}@client.example.com>\r\n"
        "To: Relais Support <support@relais.example>\r\n"
        f"Subject: Re: [#{1000 + i}] =?utf-8?Q?Ma_commande_n=C2=B0_{i}?=\r\n"
        "Date: Mon, 3 Jun 2024 10:00:00 +0200\r\n"
        f"Message-ID: <client.{i}.{rng.getrandbits(48):x}@client.example.com>\r\n"
        f"In-Reply-To: <relais.{1000 + i}.2@relais.example>\r\n"
        f"References: <client.{i}.0@client.example.com> <relais.{1000 + i}.2@relais.example>\r\n"
        "MIME-Version: 1.0\r\n"
    )
    if attachment is None:
        return (head + alternative).encode()
    encoded = base64.encodebytes(attachment).decode().replace("\n", "\r\n")
    mixed = (
        f'Content-Type: multipart/mixed; boundary="mix-{i:08d}"\r\n\r\n'
        f"--mix-{i:08d}\r\n{alternative}\r\n--mix-{i:08d}\r\n"
        f'Content-Type: application/pdf; name="facture-{i}.pdf"\r\n'
        f'Content-Disposition: attachment; filename="facture-{i}.pdf"\r\n'
        f"Content-Transfer-Encoding: base64\r\n\r\n{encoded}--mix-{i:08d}--\r\n"
    )
    return (head + mixed).encode()


def generate(messages: int, with_attachment: int, seed: int) -> dict[str, list[bytes]]:
    rng = random.Random(seed)
    pdf = b"%PDF-1.4\n" + rng.randbytes(100 * 1024 - 9)
    return {
        "HTML mail (~8 KB)": [html_mail(i, rng) for i in range(messages)],
        "with a 100 KB attachment": [
            html_mail(i, rng, attachment=pdf) for i in range(with_attachment)
        ],
    }


def floor(raw: bytes) -> object:
    return BytesParser(policy=policy.compat32).parsebytes(raw)


def stdlib_default(raw: bytes) -> object:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    body = message.get_body(("plain", "html"))
    text = body.get_content() if body is not None else ""
    sizes = [len(part.get_content()) for part in message.iter_attachments()]
    return message["Subject"], message["From"], text, sizes


def relais(raw: bytes) -> object:
    mail = parse_message(raw)
    return classify_automatic(mail, OWN_ADDRESSES), thread_keys(mail)


PARSE_STAGES: list[tuple[str, Callable[[bytes], object]]] = [
    ("floor: stdlib parse (compat32)", floor),
    ("stdlib policy.default + get_body", stdlib_default),
    ("Relais: parse + classify + thread keys", relais),
]


def best_rate(stage: Callable[[bytes], object], mails: Sequence[bytes], repeat: int) -> float:
    """Messages per second, the best of ``repeat`` passes over all ``mails``."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        for raw in mails:
            stage(raw)
        best = min(best, time.perf_counter() - started)
    return len(mails) / best


def parse_table(corpus: dict[str, list[bytes]], repeat: int) -> None:
    print("Parse (no store)")
    header = f"{'mail':<26} {'stage':<40} {'msg/s':>9} {'µs/msg':>9} {'MB/s':>7} {'x floor':>8}"
    print(header)
    print("-" * len(header))
    for kind, mails in corpus.items():
        size = sum(map(len, mails)) / len(mails)
        floor_rate = None
        for label, stage in PARSE_STAGES:
            rate = best_rate(stage, mails, repeat)
            floor_rate = floor_rate or rate
            print(
                f"{kind:<26} {label:<40} {rate:>9,.0f} {1e6 / rate:>9,.0f} "
                f"{rate * size / 1e6:>7.1f} {floor_rate / rate:>8.2f}"
            )
        print(f"{'':<26} (average size {size / 1024:,.1f} KB over {len(mails):,} messages)")


RULES = {
    "rules": [
        {"id": "spam", "name": "Spam", "then": [{"kind": "close_spam"}],
         "when": {"kind": "text", "field": "sender_domain", "op": "equals",
                  "values": ["spam.example"]}},
        {"id": "refund", "name": "Refunds", "then": [{"kind": "add_tags", "tags": ["refund"]}],
         "when": {"kind": "text", "field": "subject_or_body", "op": "word",
                  "values": ["remboursement", "refund"]}},
        {"id": "fr", "name": "French", "then": [{"kind": "add_skill", "skill": "lang:fr"}],
         "when": {"kind": "language", "languages": ["fr"]}},
    ]
}  # fmt: skip


async def _store_rate(url: str, work: Path, mails: Sequence[bytes]) -> float:
    """Messages per second through ``ingest`` into the migrated, empty database at ``url``."""
    from relais.channels.email.ingest import ingest
    from relais.channels.email.setup import ensure_mailboxes, intake_config
    from relais.config import Settings
    from relais.conversations.attachments import AttachmentStore
    from relais.core.bus import MemoryBus
    from relais.core.db import Database
    from relais.identity.service import get_or_create_team
    from relais.migrate import upgrade

    await asyncio.to_thread(upgrade, url)
    settings = Settings(
        database_url=url,
        secret_key="bench-secret-key-0123456789abcdef",  # noqa: S106  # a throwaway database
        mail={
            "mailboxes": [{"name": "support", "address": OWN_ADDRESSES[0]}],
            "domain": "relais.example",
            "triage_rules": RULES,
        },
        attachments={"directory": str(work / "files")},
    )
    db = Database(url, MemoryBus())
    try:
        team = await db.run(lambda uow: get_or_create_team(uow.session, "Support"))
        box = (await ensure_mailboxes(db, settings, team.id))["support"]
        a = settings.attachments
        store = AttachmentStore(a.directory, max_bytes=a.max_bytes, allowed_types=a.allowed_types)
        config = intake_config(settings, store, team.id)
        gc.collect()
        started = time.perf_counter()
        for raw in mails:
            await ingest(db, config, raw, mailbox=box, source="imap")
        return len(mails) / (time.perf_counter() - started)
    finally:
        await db.dispose()


async def _postgres_database(base: str) -> tuple[str, str]:
    import asyncpg

    name = f"relais_bench_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(base.replace("+asyncpg", ""))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return f"{base.rpartition('/')[0]}/{name}", name


async def _drop_postgres(base: str, name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(base.replace("+asyncpg", ""))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def store_table(corpus: dict[str, list[bytes]], postgres: str | None) -> None:
    print("\nStore (ingest: parse, classify, thread, contact, triage, message, files, task, ack)")
    header = f"{'mail':<26} {'database':<12} {'msg/s':>9} {'ms/msg':>9} {'x parse':>8}"
    print(header)
    print("-" * len(header))
    for kind, mails in corpus.items():
        parse_rate = best_rate(relais, mails, 1)
        backends = [("SQLite", None), *([("PostgreSQL", postgres)] if postgres else [])]
        for label, base in backends:
            work = Path(tempfile.mkdtemp(prefix="relais-bench-mail-"))
            try:
                if base is None:
                    rate = await _store_rate(
                        f"sqlite+aiosqlite:///{work / 'relais.db'}", work, mails
                    )
                else:
                    url, name = await _postgres_database(base)
                    try:
                        rate = await _store_rate(url, work, mails)
                    finally:
                        await _drop_postgres(base, name)
            finally:
                shutil.rmtree(work, ignore_errors=True)
            print(
                f"{kind:<26} {label:<12} {rate:>9,.0f} {1e3 / rate:>9.2f} {parse_rate / rate:>8.1f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=2000, help="HTML mails to generate")
    parser.add_argument("--attachments", type=int, default=500, help="mails with an attachment")
    parser.add_argument("--repeat", type=int, default=3, help="passes; the best is kept")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="200 and 50 messages, one pass")
    parser.add_argument("--postgres", help="also store into PostgreSQL (a base URL)")
    parser.add_argument("--no-store", action="store_true", help="the parse part only")
    args = parser.parse_args()
    if args.quick:
        args.messages, args.attachments, args.repeat = 200, 50, 1

    corpus = generate(args.messages, args.attachments, args.seed)
    parse_table(corpus, args.repeat)
    if not args.no_store:
        asyncio.run(store_table(corpus, args.postgres))


if __name__ == "__main__":
    main()
