"""Triage rules: conditions on the mail and customer, actions in order, safe on hostile mail."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from relais.channels.email import patterns
from relais.channels.email.parse import parse_message
from relais.channels.email.rules import MAX_DEPTH, Rule, RuleSet
from relais.channels.email.triage import (
    MAX_BODY,
    AttachmentFacts,
    MessageFacts,
    dry_run,
    evaluate,
    facts_from_mail,
)

MAIL = Path(__file__).parent.parent / "data" / "mail"


def rule(rule_id: str, when: dict[str, Any], *then: dict[str, Any], **extra: Any) -> Rule:
    return Rule.model_validate(
        {"id": rule_id, "name": rule_id, "when": when, "then": then, **extra}
    )


def text(field: str, op: str, *values: str) -> dict[str, Any]:
    return {"kind": "text", "field": field, "op": op, "values": values}


def queue(name: str) -> dict[str, Any]:
    return {"kind": "set_queue", "queue": name}


def fires(when: dict[str, Any], facts: MessageFacts) -> bool:
    return evaluate([rule("r", when, queue("q"))], facts).queue == "q"


FACTS = MessageFacts(
    sender="Jeanne.Dupont@Shop.Example.COM",
    sender_name="Jeanne Dupont",
    recipients=("support@relais.example", "factures@relais.example"),
    subject="Re: [#12] REMBOURSEMENT non reçu",
    body="Bonjour,\nJe n'ai toujours pas été remboursée de la commande 4411.\nMerci",
    language="fr",
    attachments=(
        AttachmentFacts(filename="Relevé.PDF", content_type="application/pdf", size=120_000),
        AttachmentFacts(filename="photo.jpg", content_type="image/jpeg", size=3_000_000),
    ),
    customer={"tier": "Gold", "orders": 12, "vip": True, "balance": -3.5, "country": None},
)


# --- conditions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (text("sender", "equals", "jeanne.dupont@shop.example.com"), True),
        (text("sender_domain", "equals", "shop.example.com"), True),
        (text("sender_domain", "equals", "example.com"), False),
        (text("sender_domain", "glob", "*.example.com"), True),
        (text("sender", "glob", "*@*.example.???"), True),
        (text("sender", "regex", r"^jeanne\.[a-z]+@"), True),
        (text("sender_name", "contains", "dupont"), True),
        (text("recipient", "equals", "FACTURES@relais.example"), True),
        (text("recipient", "equals", "sales@relais.example"), False),
        (text("subject", "word", "remboursement"), True),
        (text("subject", "word", "rembourse"), False),  # a whole word, not a piece
        (text("subject", "contains", "Remboursement non RECU"), True),  # accents, case
        (text("subject", "starts_with", "re: [#12]"), True),
        (text("subject", "ends_with", "non recu"), True),
        (text("body", "word", "rembourse", "remboursee"), True),  # any of the values
        (text("body", "word", "toujours pas ete"), True),  # a phrase
        (text("body", "regex", r"commande \d{4}\b"), True),
        (text("body", "regex", r"COMMANDE\s+\d+"), True),  # case-insensitive
        (text("body", "regex", r"\Wcommande"), True),  # \W kept as \W, not folded to \w
        (text("subject_or_body", "word", "merci"), True),
        (text("subject", "word", "merci"), False),
        ({"kind": "language", "languages": ["FR", "en"]}, True),
        ({"kind": "language", "languages": ["en"]}, False),
        ({"kind": "attachment"}, True),
        ({"kind": "attachment", "content_type": "image/*"}, True),
        ({"kind": "attachment", "filename": "*.pdf", "max_size": 200_000}, True),
        ({"kind": "attachment", "filename": "*.pdf", "min_size": 200_000}, False),
        ({"kind": "attachment", "content_type": "application/zip"}, False),
        ({"kind": "customer", "attribute": "tier", "op": "equals", "value": "gold"}, True),
        ({"kind": "customer", "attribute": "tier", "op": "in", "value": ["silver", "GOLD"]}, True),
        ({"kind": "customer", "attribute": "orders", "op": "gte", "value": 12}, True),
        ({"kind": "customer", "attribute": "orders", "op": "gt", "value": 12}, False),
        ({"kind": "customer", "attribute": "orders", "op": "equals", "value": 12.0}, True),
        ({"kind": "customer", "attribute": "balance", "op": "lt", "value": 0}, True),
        ({"kind": "customer", "attribute": "vip", "op": "equals", "value": True}, True),
        ({"kind": "customer", "attribute": "vip", "op": "equals", "value": 1}, False),
        ({"kind": "customer", "attribute": "tier", "op": "gt", "value": 1}, False),  # not a number
        ({"kind": "customer", "attribute": "country", "op": "exists"}, False),
        ({"kind": "customer", "attribute": "missing", "op": "equals", "value": "x"}, False),
        ({"kind": "always"}, True),
        ({"kind": "not", "of": {"kind": "always"}}, False),
        ({"kind": "all", "of": [{"kind": "always"}, text("subject", "word", "facture")]}, False),
        ({"kind": "any", "of": [{"kind": "always"}, text("subject", "word", "facture")]}, True),
    ],
)
def test_condition(when: dict[str, Any], expected: bool) -> None:
    assert fires(when, FACTS) is expected


def test_unicode_lookalikes_and_ligatures_are_folded() -> None:
    fullwidth = "\uff35\uff32\uff27\uff25\uff2e\uff34"  # URGENT in full-width letters
    facts = MessageFacts(subject=f"{fullwidth} : \ufb01n de contrat", body="Straße")  # ﬁ ligature
    assert fires(text("subject", "word", "urgent"), facts)
    assert fires(text("subject", "word", "fin"), facts)
    assert fires(text("body", "equals", "STRASSE"), facts)


# --- actions ---------------------------------------------------------------------------------


def test_later_rules_replace_single_values_and_add_up_skills_and_tags() -> None:
    always = {"kind": "always"}
    rules = [
        rule(
            "base",
            always,
            queue("general"),
            {"kind": "set_priority", "priority": 1},
            {"kind": "add_skill", "skill": "lang:fr", "level": 3},
            {"kind": "add_tags", "tags": ["mail", "fr"]},
        ),
        rule(
            "refunds",
            text("subject", "word", "remboursement"),
            queue("refunds"),
            {"kind": "add_skill", "skill": "lang:fr", "level": 1},
            {"kind": "add_skill", "skill": "billing", "level": 2},
            {"kind": "add_tags", "tags": ["refund", "mail"]},
            {"kind": "auto_answer", "template_id": "refund-ack"},
        ),
        rule("vip", {"kind": "customer", "attribute": "vip", "op": "equals", "value": True},
             {"kind": "set_priority", "priority": 10}, {"kind": "assign_agent", "agent_id": "a7"}),
        rule("invoices", text("subject", "word", "facture"), queue("invoices")),
    ]  # fmt: skip
    result = evaluate(rules, FACTS)
    assert result.queue == "refunds"
    assert result.priority == 10
    assert result.skills == {"lang:fr": 3, "billing": 2}
    assert result.tags == ("mail", "fr", "refund")
    assert result.agent_id == "a7"
    assert result.auto_answer == "refund-ack"
    assert not result.spam and result.stopped_by is None
    assert [f.rule_id for f in result.fired] == ["base", "refunds", "vip"]
    assert result.fired[1].actions == rules[1].then


def test_stop_ends_the_evaluation_and_disabled_rules_are_skipped() -> None:
    rules = [
        rule("off", {"kind": "always"}, queue("never"), enabled=False),
        rule("first", {"kind": "always"}, queue("first"), {"kind": "stop"}),
        rule("second", {"kind": "always"}, queue("second")),
    ]
    result = evaluate(rules, FACTS)
    assert result.queue == "first"
    assert result.stopped_by == "first"
    assert [f.rule_id for f in result.fired] == ["first"]


def test_spam_is_closed_never_auto_answered_and_stops() -> None:
    rules = [
        rule("ack", {"kind": "always"}, {"kind": "auto_answer", "template_id": "ack"}),
        rule("spam", text("body", "word", "viagra"), {"kind": "close_spam"}),
        rule("after", {"kind": "always"}, queue("after")),
    ]
    spam = evaluate(rules, MessageFacts(body="Cheap VIAGRA here"))
    assert spam.spam and spam.auto_answer is None and spam.queue is None
    assert spam.stopped_by == "spam"
    ham = evaluate(rules, MessageFacts(body="Hello"))
    assert not ham.spam and ham.auto_answer == "ack" and ham.queue == "after"


def test_a_stored_rule_set_evaluates_like_its_list() -> None:
    rules = [rule("a", {"kind": "always"}, queue("a")), rule("b", {"kind": "always"}, queue("b"))]
    stored = RuleSet.model_validate_json(RuleSet(rules=tuple(rules)).model_dump_json())
    assert evaluate(stored, FACTS) == evaluate(rules, FACTS)
    assert dry_run(stored, FACTS) == dry_run(rules, FACTS)


def test_no_rule_no_decision() -> None:
    assert evaluate([], FACTS) == evaluate([], MessageFacts())
    assert evaluate([], FACTS).fired == ()


# --- the admin's test ------------------------------------------------------------------------


def test_dry_run_says_what_held_in_every_rule() -> None:
    rules = [
        rule(
            "refund-en",
            {"kind": "all", "of": [
                text("subject", "word", "remboursement"),
                {"kind": "not", "of": {"kind": "language", "languages": ["fr"]}},
            ]},
            queue("refunds-en"),
        ),
        rule("refund", text("subject", "word", "remboursement"), queue("refunds"),
             {"kind": "stop"}),
        rule("late", {"kind": "always"}, queue("late")),
        rule("off", {"kind": "always"}, queue("off"), enabled=False),
    ]  # fmt: skip
    run = dry_run(rules, FACTS)
    assert run.result == evaluate(rules, FACTS)
    assert [(r.rule_id, r.status) for r in run.rules] == [
        ("refund-en", "did not match"),
        ("refund", "fired"),
        ("late", "not reached"),
        ("off", "not reached"),
    ]
    first = run.rules[0].condition
    assert first is not None and first.kind == "all" and not first.held
    assert [c.held for c in first.of] == [True, False]
    assert first.of[0].detail == "subject word 'remboursement'"
    assert first.of[1].of[0].held  # the language is French, so "not French" fails
    assert run.model_dump(mode="json")["rules"][1]["status"] == "fired"  # JSON for an API


# --- facts from a parsed mail ----------------------------------------------------------------


def test_facts_from_a_reply_leave_out_the_quoted_history_and_signature() -> None:
    mail = parse_message((MAIL / "quoted-reply-fr.eml").read_bytes())
    facts = facts_from_mail(
        mail, language="fr", customer={"tier": "gold"}, mailbox="support@relais.example"
    )
    assert facts.sender == "elodie@client.example.fr"
    assert facts.sender_name == "Élodie Martin"
    assert "support@relais.example" in facts.recipients
    assert facts.body == "Merci, je renvoie le produit demain."
    assert not fires(text("body", "word", "etiquette"), facts)  # only in our quoted answer
    assert fires(text("sender_domain", "equals", "client.example.fr"), facts)


def test_facts_carry_attachments() -> None:
    mail = parse_message((MAIL / "inline-image-related.eml").read_bytes())
    facts = facts_from_mail(mail)
    assert facts.attachments and all(a.size >= 0 for a in facts.attachments)
    assert fires({"kind": "attachment", "content_type": "image/*"}, facts)


# --- hostile input ---------------------------------------------------------------------------

# Each of these backtracks exponentially or polynomially in Python's re.
CATASTROPHIC = [r"(a+)+$", r"(a|aa)+b", r"(.*a){12}x", r"^(\w+\s?)*$", r".*.*.*=.*;$"]


def test_catastrophic_patterns_on_a_1_mb_body_come_back_unmatched() -> None:
    """RE2 has no backtracking: its time is bounded by the size of the text (bench/
    email_automation.py measures it). With Python's re, the first pattern alone would not come
    back on a megabyte in the lifetime of the machine."""
    body = "a" * (MAX_BODY - 1) + "!"  # 1 MiB, all of it read
    rules = [
        rule(f"r{i}", text("body", "regex", p), queue("q")) for i, p in enumerate(CATASTROPHIC)
    ]
    rules.append(rule("words", text("body", "word", "a a"), queue("q")))
    rules.append(rule("glob", text("subject_or_body", "glob", "*a*a*a*a*a*a*b"), queue("q")))
    result = evaluate(rules, MessageFacts(body=body, subject="a" * 4096))
    assert result.queue is None  # nothing matched, and it came back


def test_patterns_run_on_an_engine_without_backtracking() -> None:
    """What keeps the test above finite: every pattern is compiled by RE2, never by re."""
    for pattern in CATASTROPHIC:
        compiled = patterns._compiled("regex", pattern)
        assert type(compiled).__module__.startswith("re2"), type(compiled)
    assert not fires(text("body", "regex", CATASTROPHIC[0]), MessageFacts(body="a" * 22 + "!"))


@pytest.mark.parametrize(
    ("when", "message"),
    [
        (text("body", "regex", r"(a)\1"), "invalid escape sequence"),
        (text("body", "regex", r"(?<=a)b"), "invalid perl operator"),
        (text("body", "regex", r"a{2000}"), "invalid repetition size"),
        (text("body", "regex", "((((((((((a{1000}){1000}))))))))))"), "RE2"),
        (text("body", "contains", ""), "not empty"),
        (text("body", "contains"), "at least 1 item"),
        (text("body", "contains", "x" * 1001), "at most 1000"),
        (text("headers", "contains", "x"), "Input should be"),
        ({"kind": "customer", "attribute": "tier", "op": "gt", "value": "gold"}, "a number"),
        ({"kind": "customer", "attribute": "tier", "op": "in", "value": "gold"}, "a list"),
        ({"kind": "attachment", "min_size": -1}, "greater than or equal"),
        ({"kind": "teleport"}, "does not match any of the expected tags"),
        ({"kind": "always", "extra": 1}, "Extra inputs"),
    ],
)
def test_a_bad_rule_is_refused_with_the_reason(when: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        rule("bad", when, queue("q"))


def test_nesting_and_size_are_bounded() -> None:
    deep: dict[str, Any] = {"kind": "always"}
    for _ in range(MAX_DEPTH + 1):
        deep = {"kind": "not", "of": deep}
    with pytest.raises(ValidationError, match="nest at most"):
        rule("deep", deep, queue("q"))
    hostile: dict[str, Any] = {"kind": "always"}
    for _ in range(5000):
        hostile = {"kind": "not", "of": hostile}
    with pytest.raises(ValidationError):
        rule("hostile", hostile, queue("q"))
    wide = {"kind": "any", "of": [{"kind": "always"}] * 250}
    with pytest.raises(ValidationError, match="at most 200 conditions"):
        rule("wide", wide, queue("q"))
    with pytest.raises(ValidationError, match="two rules have the id"):
        RuleSet(rules=(rule("same", {"kind": "always"}, queue("a")),) * 2)
    with pytest.raises(ValidationError):
        rule("bad id!", {"kind": "always"}, queue("q"))


# --- invariants ------------------------------------------------------------------------------

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
)
# What a stored rule may hold: JSON has no inf nor NaN.
_rule_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
)  # fmt: skip
_facts = st.builds(
    MessageFacts,
    sender=st.text(max_size=60),
    sender_name=st.text(max_size=30),
    recipients=st.lists(st.text(max_size=40), max_size=4).map(tuple),
    subject=st.text(max_size=120),
    body=st.text(max_size=600),
    language=st.text(max_size=8),
    attachments=st.lists(
        st.builds(
            AttachmentFacts,
            filename=st.text(max_size=30),
            content_type=st.text(max_size=30),
            size=st.integers(min_value=-10, max_value=10**12),
        ),
        max_size=3,
    ).map(tuple),
    customer=st.dictionaries(st.sampled_from(["tier", "orders", "vip", "x"]), _scalars, max_size=4),
)
_values = st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=3)
_leaves = st.one_of(
    st.builds(
        lambda field, op, values: text(field, op, *values),
        st.sampled_from(["sender", "sender_domain", "sender_name", "recipient", "subject", "body",
                         "subject_or_body"]),
        st.sampled_from(["equals", "contains", "starts_with", "ends_with", "word", "glob"]),
        _values,
    ),
    st.builds(
        lambda values: text("body", "regex", *values),
        st.lists(st.sampled_from([r"\bre\w+", "^$", r"(a|b)*c", r"[^\x00]+", r"\d{2,}"]),
                 min_size=1, max_size=2),
    ),
    st.builds(lambda langs: {"kind": "language", "languages": langs},
              st.lists(st.sampled_from(["fr", "en", "unknown"]), min_size=1, max_size=2)),
    st.builds(lambda ct, size: {"kind": "attachment", "content_type": ct, "min_size": size},
              st.sampled_from([None, "image/*", "*"]), st.one_of(st.none(), st.integers(0, 10**6))),
    st.builds(lambda attribute, op, value: {"kind": "customer", "attribute": attribute,
                                            "op": op, "value": value},
              st.sampled_from(["tier", "orders", "vip"]),
              st.sampled_from(["gt", "lte"]), st.integers(-5, 5)),
    st.builds(lambda attribute, value: {"kind": "customer", "attribute": attribute,
                                        "op": "equals", "value": value},
              st.sampled_from(["tier", "orders", "vip"]), _rule_scalars),
    st.just({"kind": "always"}),
)  # fmt: skip
_conditions = st.recursive(
    _leaves,
    lambda inner: st.one_of(
        st.builds(lambda of: {"kind": "all", "of": of}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda of: {"kind": "any", "of": of}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda of: {"kind": "not", "of": of}, inner),
    ),
    max_leaves=8,
)
_actions = st.lists(
    st.one_of(
        st.builds(queue, st.sampled_from(["a", "b"])),
        st.builds(lambda p: {"kind": "set_priority", "priority": p}, st.integers(-100, 100)),
        st.builds(lambda s, lv: {"kind": "add_skill", "skill": s, "level": lv},
                  st.sampled_from(["x", "y"]), st.integers(1, 10)),
        st.just({"kind": "add_tags", "tags": ["t"]}),
        st.just({"kind": "auto_answer", "template_id": "ack"}),
        st.just({"kind": "assign_agent", "agent_id": "a1"}),
        st.just({"kind": "close_spam"}),
        st.just({"kind": "stop"}),
    ),
    min_size=1,
    max_size=3,
)  # fmt: skip
_rules = st.lists(st.tuples(_conditions, _actions, st.booleans()), max_size=5).map(
    lambda items: [
        rule(f"r{i}", when, *then, enabled=enabled) for i, (when, then, enabled) in enumerate(items)
    ]
)


@settings(max_examples=150, deadline=None)
@given(_rules, _facts)
def test_evaluate_never_raises_and_dry_run_agrees(rules: list[Rule], facts: MessageFacts) -> None:
    result = evaluate(rules, facts)
    run = dry_run(rules, facts)
    assert run.result == result
    assert [f.rule_id for f in result.fired] == [
        r.rule_id for r in run.rules if r.status == "fired"
    ]
    if result.spam:
        assert result.auto_answer is None and result.stopped_by == result.fired[-1].rule_id


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_a_rule_cannot_hold_what_json_cannot(value: float) -> None:
    with pytest.raises(ValidationError):
        rule("r", {"kind": "customer", "attribute": "orders", "op": "equals", "value": value})


@settings(max_examples=100, deadline=None)
@given(_rules)
def test_a_rule_set_round_trips_through_json(rules: list[Rule]) -> None:
    stored = RuleSet(rules=tuple(rules)).model_dump_json()
    assert RuleSet.model_validate_json(stored) == RuleSet(rules=tuple(rules))
