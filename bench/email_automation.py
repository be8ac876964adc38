"""E-mail automation: what triage, language, intent, suggestions and acknowledgements cost a mail.

    python bench/email_automation.py            # 50 rules, 10,000 past replies
    python bench/email_automation.py --quick    # a smoke run

Mails are the 150 labelled ones of ``tests/data/mail/intent/`` (French and English, five
intents), each made different by an order number and a name. Per stage, microseconds per mail
(best of ``--repeat``):
- language: ``detect_language`` on subject and body (low-accuracy lingua, models loaded first);
- triage: ``evaluate`` with ``--rules`` rules of every condition kind (text ops including RE2
  regexes, language, attachment, customer; nested all/any/not);
- triage on a hostile 1 MiB body: catastrophic patterns for a backtracking engine;
- intent: ``learn`` and ``predict`` per mail, trained on all the labelled mail; its JSON size;
- suggestions: ``suggest`` over ``--replies`` past question/reply pairs;
- acknowledgement: ``expected_phrase`` + ``render``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from relais.channels.email.ack import AckTemplates, expected_phrase, render
from relais.channels.email.intent import Example, IntentModel
from relais.channels.email.language import detect_language
from relais.channels.email.rules import Rule
from relais.channels.email.suggest import PastReplies, suggest
from relais.channels.email.triage import AttachmentFacts, MessageFacts, evaluate
from relais.routing.hours import BusinessHours

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "mail"
WORDS = ["remboursement", "refund", "facture", "invoice", "colis", "parcel", "password", "urgent"]


def labelled() -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for path in sorted((DATA / "intent").glob("*.jsonl"))
        for line in path.read_text("utf-8").splitlines()
    ]


def make_rules(count: int) -> list[Rule]:
    shapes: list[Callable[[int], dict[str, object]]] = [
        lambda i: {"kind": "text", "field": "subject", "op": "word", "values": WORDS[i % 8 :]},
        lambda i: {
            "kind": "text",
            "field": "body",
            "op": "regex",
            "values": [rf"\b(commande|order)\s*#?\d{{{3 + i % 3}}}\b"],
        },
        lambda i: {
            "kind": "text",
            "field": "sender_domain",
            "op": "glob",
            "values": [f"*.example{i}.com"],
        },
        lambda i: {
            "kind": "any",
            "of": [
                {"kind": "language", "languages": ["fr"]},
                {"kind": "customer", "attribute": "tier", "op": "in", "value": ["gold", "vip"]},
            ],
        },
        lambda i: {
            "kind": "all",
            "of": [
                {"kind": "attachment", "content_type": "application/pdf", "max_size": 10**6},
                {
                    "kind": "not",
                    "of": {
                        "kind": "text",
                        "field": "subject_or_body",
                        "op": "contains",
                        "values": ["newsletter", "unsubscribe"],
                    },
                },
            ],
        },
    ]
    return [
        Rule.model_validate(
            {
                "id": f"r{i}",
                "name": f"rule {i}",
                "when": shapes[i % len(shapes)](i),
                "then": [
                    {"kind": "set_queue", "queue": f"q{i % 7}"},
                    {"kind": "add_tags", "tags": [f"t{i % 5}"]},
                ],
            }
        )
        for i in range(count)
    ]


def each(items: Sequence[Any], run: Callable[[Any], object]) -> int:
    for item in items:
        run(item)
    return len(items)


def per_item_us(run: Callable[[], int], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        items = run()
        best = min(best, (time.perf_counter() - started) / items)
    return best * 1e6


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--rules", type=int, default=50)
    parser.add_argument("--replies", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.rules, args.replies, args.repeat = 10, 500, 1
    rng = random.Random(7)
    base = labelled()
    mails = [
        {**m, "body": f"{m['body']}\nCommande {rng.randint(1000, 99999)}, {rng.choice(WORDS)}."}
        for m in base
    ]
    facts = [
        MessageFacts(
            sender=f"client{i}@shop.example{i % 60}.com",
            subject=str(m["subject"]),
            body=str(m["body"]),
            language=str(m["lang"]),
            attachments=(
                AttachmentFacts(filename="a.pdf", content_type="application/pdf", size=20_000),
            )
            if i % 3 == 0
            else (),
            customer={"tier": rng.choice(["gold", "silver", "none"])},
        )
        for i, m in enumerate(mails)
    ]
    rules = make_rules(args.rules)
    rows: list[tuple[str, str]] = []

    detect_language("warm up: models load on first use")
    us = per_item_us(
        lambda: each(mails, lambda m: detect_language(f"{m['subject']}\n{m['body']}")), args.repeat
    )
    rows.append(("language, per mail", f"{us:,.0f} µs"))

    us = per_item_us(lambda: each(facts, lambda f: evaluate(rules, f)), args.repeat)
    rows.append((f"triage, {len(rules)} rules, per mail", f"{us:,.0f} µs"))

    hostile = MessageFacts(subject="a" * 4096, body="a" * ((1 << 20) - 1) + "!")
    catastrophic = [r"(a+)+$", r"(a|aa)+b", r"(.*a){12}x", r"^(\w+\s?)*$"]
    bad_rules = [
        Rule.model_validate(
            {
                "id": f"h{i}",
                "name": "h",
                "then": [{"kind": "stop"}],
                "when": {"kind": "text", "field": "body", "op": "regex", "values": [p]},
            }
        )
        for i, p in enumerate(catastrophic)
    ]
    us = per_item_us(lambda: len(evaluate(bad_rules, hostile).fired) + 1, args.repeat)
    rows.append(("triage, 4 catastrophic regexes, 1 MiB body", f"{us / 1000:,.1f} ms"))

    examples = [
        Example(str(m["subject"]), str(m["body"]), str(m["queue"]), tuple(m["tags"])) for m in mails
    ]
    model = IntentModel()

    def learn() -> int:
        nonlocal model
        model = IntentModel()
        model.learn_many(examples)
        return len(examples)

    us = per_item_us(learn, args.repeat)
    rows.append(("intent learn, per mail", f"{us:,.0f} µs"))
    us = per_item_us(
        lambda: each(examples, lambda e: model.predict(e.subject, e.body)), args.repeat
    )
    rows.append(("intent predict, per mail", f"{us:,.0f} µs"))
    rows.append(("intent model, 150 mails, JSON", f"{len(model.to_json()) / 1024:,.0f} KiB"))

    replies = PastReplies()
    answers = json.loads((DATA / "replies.json").read_text("utf-8"))
    for i in range(args.replies):
        m = base[i % len(base)]
        extra = " ".join(rng.choice(WORDS) for _ in range(3))
        replies.add(
            f"p{i}",
            f"{m['subject']}\n{m['body']} {extra} {i}",
            f"{answers[str(m['queue']) + '/' + str(m['lang'])]} ({i % 40})",
            language=str(m["lang"]),
        )
    us = per_item_us(
        lambda: each(mails[:50], lambda m: suggest([replies], m["subject"], m["body"])),
        args.repeat,
    )
    rows.append((f"suggest over {args.replies:,} past replies, per mail", f"{us / 1000:,.1f} ms"))

    zone = ZoneInfo("Europe/Paris")
    hours = BusinessHours(
        timezone="Europe/Paris",
        weekly={d: ("09:00-18:00",) for d in ("mon", "tue", "wed", "thu", "fri")},
    )
    now = datetime(2024, 11, 12, 17, 0, tzinfo=UTC)
    templates = AckTemplates()

    def acks() -> int:
        for i, m in enumerate(mails):
            phrase = expected_phrase(
                now, now + timedelta(hours=i % 30), str(m["lang"]), zone=zone, hours=hours
            )
            render(
                templates,
                queue=None,
                queue_name="Support",
                language=str(m["lang"]),
                number=i + 1,
                subject=str(m["subject"]),
                name="Jeanne",
                expected=phrase,
            )
        return len(mails)

    us = per_item_us(acks, args.repeat)
    rows.append(("acknowledgement, per mail", f"{us:,.0f} µs"))

    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value:>10}")


if __name__ == "__main__":
    main()
