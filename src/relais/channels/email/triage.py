"""Triage: the admin's rules (``rules.py``) applied to one mail, in order. Pure.

``evaluate(rules, facts)`` looks at every enabled rule in order; a rule whose condition holds
*fires* and its actions apply:

- queue, priority, assignee and auto-answer template hold one value: a later rule that sets
  one replaces what an earlier one set (put general rules first, exceptions after);
- skills and tags add up (a skill asked twice keeps the higher level);
- ``stop`` ends the evaluation after this rule; ``close_spam`` too, and a spam gets no
  auto-answer, whatever rule asked for one.

The result lists the rules that fired and what each did, for the desk to explain a routing.
``dry_run`` does the same and also says, for every rule and every condition in it, whether it
held: what an admin screen shows when "why did my rule not fire?".

Facts are bounded before anything is compared (``MAX_BODY`` characters of body...), every
comparison is linear in its text (``patterns.py``), and no input makes ``evaluate`` raise.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Final

from pydantic import BaseModel, ConfigDict, Field

from relais.channels.email.body import split_quoted
from relais.channels.email.parse import ParsedMail
from relais.channels.email.patterns import matches
from relais.channels.email.rules import (
    Action,
    AddSkill,
    AddTags,
    AllOf,
    Always,
    AnyOf,
    AssignAgent,
    AutoAnswer,
    CloseAsSpam,
    Condition,
    CustomerIs,
    HasAttachment,
    LanguageIs,
    NotOf,
    Rule,
    RuleSet,
    Scalar,
    SetPriority,
    SetQueue,
    Stop,
    TextIs,
)
from relais.channels.email.text import fold

MAX_BODY: Final = 1 << 20  # characters of body the rules see
MAX_FIELD: Final = 4096  # of subject, names and addresses
MAX_RECIPIENTS: Final = 100
MAX_ATTACHMENTS: Final = 100


class AttachmentFacts(BaseModel):
    model_config = ConfigDict(frozen=True)

    filename: str = ""
    content_type: str = "application/octet-stream"
    size: int = 0


class MessageFacts(BaseModel):
    """What rules can look at: the mail, its language, and the customer's attributes."""

    model_config = ConfigDict(frozen=True)

    sender: str = ""
    sender_name: str = ""
    recipients: tuple[str, ...] = ()
    subject: str = ""
    body: str = ""
    language: str = "unknown"
    attachments: tuple[AttachmentFacts, ...] = ()
    customer: dict[str, Scalar] = Field(default_factory=dict)


def facts_from_mail(
    mail: ParsedMail,
    *,
    language: str = "unknown",
    customer: Mapping[str, Scalar] | None = None,
    mailbox: str | None = None,
) -> MessageFacts:
    """The facts of a parsed mail: the body is its new text, quoted history and signature left
    out (a rule on "refund" should not fire on our own earlier answer quoted below)."""
    new = split_quoted(mail.text[:MAX_BODY]).new_text
    recipients = [a.address for a in (*mail.to, *mail.cc)]
    if mailbox:
        recipients.append(mailbox)
    return MessageFacts(
        sender=mail.from_.address if mail.from_ else "",
        sender_name=mail.from_.name if mail.from_ else "",
        recipients=tuple(recipients),
        subject=mail.subject,
        body=new or mail.text[:MAX_BODY],
        language=language,
        attachments=tuple(
            AttachmentFacts(filename=a.filename or "", content_type=a.content_type, size=a.size)
            for a in mail.attachments
        ),
        customer=dict(customer or {}),
    )


def scalar_attributes(attributes: Mapping[str, object]) -> dict[str, Scalar]:
    """The customer's attributes rules may compare: plain values only."""
    return {
        k: v for k, v in attributes.items() if v is None or isinstance(v, str | int | float | bool)
    }


class Fired(BaseModel):
    model_config = ConfigDict(frozen=True)

    rule_id: str
    name: str
    actions: tuple[Action, ...]


class TriageResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    queue: str | None = None
    skills: dict[str, int] = Field(default_factory=dict)
    priority: int | None = None
    tags: tuple[str, ...] = ()
    agent_id: str | None = None
    auto_answer: str | None = None  # a template id
    spam: bool = False
    stopped_by: str | None = None  # the rule after which nothing more was looked at
    fired: tuple[Fired, ...] = ()


class ConditionTrace(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: str
    held: bool
    detail: str = ""
    of: tuple[ConditionTrace, ...] = ()


class RuleTrace(BaseModel):
    model_config = ConfigDict(frozen=True)

    rule_id: str
    name: str
    status: str  # "fired", "did not match", "disabled", "not reached"
    condition: ConditionTrace | None = None


class DryRun(BaseModel):
    model_config = ConfigDict(frozen=True)

    result: TriageResult
    rules: tuple[RuleTrace, ...]


@dataclass
class _Facts:
    """Facts cut to size and folded once, on first use."""

    facts: MessageFacts

    @cached_property
    def subject(self) -> str:
        return fold(self.facts.subject[:MAX_FIELD])

    @cached_property
    def body(self) -> str:
        return fold(self.facts.body[:MAX_BODY])

    @cached_property
    def sender(self) -> str:
        return fold(self.facts.sender[:MAX_FIELD].strip())

    @cached_property
    def sender_domain(self) -> str:
        return self.sender.rpartition("@")[2] if "@" in self.sender else ""

    @cached_property
    def sender_name(self) -> str:
        return fold(self.facts.sender_name[:MAX_FIELD])

    @cached_property
    def recipients(self) -> tuple[str, ...]:
        return tuple(fold(r[:MAX_FIELD].strip()) for r in self.facts.recipients[:MAX_RECIPIENTS])

    def texts(self, name: str) -> tuple[str, ...]:
        if name == "recipient":
            return self.recipients
        if name == "subject_or_body":
            return (self.subject, self.body)
        return (str(getattr(self, name)),)


def evaluate(rules: RuleSet | Sequence[Rule], facts: MessageFacts) -> TriageResult:
    """The rules applied in order to one mail."""
    return _run(_listed(rules), facts, trace=None)


def dry_run(rules: RuleSet | Sequence[Rule], facts: MessageFacts) -> DryRun:
    """``evaluate`` with every rule's and every condition's outcome, for an admin's test."""
    traces: list[RuleTrace] = []
    result = _run(_listed(rules), facts, trace=traces)
    return DryRun(result=result, rules=tuple(traces))


def _listed(rules: RuleSet | Sequence[Rule]) -> Sequence[Rule]:
    return rules.rules if isinstance(rules, RuleSet) else rules


def _run(rules: Sequence[Rule], facts: MessageFacts, trace: list[RuleTrace] | None) -> TriageResult:
    prepared = _Facts(facts)
    state = _State()
    for rule in rules:
        if state.stopped_by is not None:
            if trace is not None:
                trace.append(RuleTrace(rule_id=rule.id, name=rule.name, status="not reached"))
            continue
        if not rule.enabled:
            if trace is not None:
                trace.append(RuleTrace(rule_id=rule.id, name=rule.name, status="disabled"))
            continue
        if trace is None:
            held = _holds(rule.when, prepared)
        else:
            explained = _explain(rule.when, prepared)
            held = explained.held
            status = "fired" if held else "did not match"
            trace.append(
                RuleTrace(rule_id=rule.id, name=rule.name, status=status, condition=explained)
            )
        if held:
            state.apply(rule)
    return state.result()


@dataclass(slots=True)
class _State:
    queue: str | None = None
    skills: dict[str, int] = field(default_factory=dict)
    priority: int | None = None
    tags: dict[str, None] = field(default_factory=dict)  # ordered set
    agent_id: str | None = None
    auto_answer: str | None = None
    spam: bool = False
    stopped_by: str | None = None
    fired: list[Fired] = field(default_factory=list)

    def apply(self, rule: Rule) -> None:
        for action in rule.then:
            if isinstance(action, SetQueue):
                self.queue = action.queue
            elif isinstance(action, AddSkill):
                self.skills[action.skill] = max(action.level, self.skills.get(action.skill, 0))
            elif isinstance(action, SetPriority):
                self.priority = action.priority
            elif isinstance(action, AddTags):
                self.tags.update(dict.fromkeys(action.tags))
            elif isinstance(action, AssignAgent):
                self.agent_id = action.agent_id
            elif isinstance(action, AutoAnswer):
                self.auto_answer = action.template_id
            elif isinstance(action, CloseAsSpam):
                self.spam = True
                self.stopped_by = rule.id
            elif isinstance(action, Stop):
                self.stopped_by = rule.id
        self.fired.append(Fired(rule_id=rule.id, name=rule.name, actions=rule.then))

    def result(self) -> TriageResult:
        return TriageResult(
            queue=self.queue,
            skills=dict(self.skills),
            priority=self.priority,
            tags=tuple(self.tags),
            agent_id=self.agent_id,
            auto_answer=None if self.spam else self.auto_answer,
            spam=self.spam,
            stopped_by=self.stopped_by,
            fired=tuple(self.fired),
        )


def _holds(condition: Condition, facts: _Facts) -> bool:
    if isinstance(condition, AllOf):
        return all(_holds(c, facts) for c in condition.of)
    if isinstance(condition, AnyOf):
        return any(_holds(c, facts) for c in condition.of)
    if isinstance(condition, NotOf):
        return not _holds(condition.of, facts)
    return _leaf(condition, facts)


def _explain(condition: Condition, facts: _Facts) -> ConditionTrace:
    if isinstance(condition, AllOf | AnyOf):
        parts = tuple(_explain(c, facts) for c in condition.of)
        combine = all if isinstance(condition, AllOf) else any
        return ConditionTrace(kind=condition.kind, held=combine(p.held for p in parts), of=parts)
    if isinstance(condition, NotOf):
        inner = _explain(condition.of, facts)
        return ConditionTrace(kind="not", held=not inner.held, of=(inner,))
    return ConditionTrace(
        kind=condition.kind, held=_leaf(condition, facts), detail=_describe(condition)
    )


def _leaf(condition: Condition, facts: _Facts) -> bool:
    if isinstance(condition, TextIs):
        return any(
            matches(condition.op, value, text)
            for text in facts.texts(condition.field)
            for value in condition.values
        )
    if isinstance(condition, LanguageIs):
        return facts.facts.language.strip().lower() in condition.languages
    if isinstance(condition, HasAttachment):
        return any(_attachment(condition, a) for a in facts.facts.attachments[:MAX_ATTACHMENTS])
    if isinstance(condition, CustomerIs):
        return _customer(condition, facts.facts.customer)
    return isinstance(condition, Always)


def _attachment(condition: HasAttachment, attachment: AttachmentFacts) -> bool:
    if condition.min_size is not None and attachment.size < condition.min_size:
        return False
    if condition.max_size is not None and attachment.size > condition.max_size:
        return False
    if condition.content_type is not None and not matches(
        "glob", condition.content_type, fold(attachment.content_type[:MAX_FIELD])
    ):
        return False
    return condition.filename is None or matches(
        "glob", condition.filename, fold(attachment.filename[:MAX_FIELD])
    )


def _customer(condition: CustomerIs, attributes: Mapping[str, Scalar]) -> bool:
    value = attributes.get(condition.attribute)
    if condition.op == "exists":
        return value is not None
    if condition.op == "equals":
        return _same(value, condition.value)
    if condition.op == "in":
        options = condition.value if isinstance(condition.value, tuple) else (condition.value,)
        return any(_same(value, option) for option in options)
    number, limit = _number(value), _number(condition.value)
    if number is None or limit is None:
        return False
    if condition.op == "gt":
        return number > limit
    if condition.op == "gte":
        return number >= limit
    if condition.op == "lt":
        return number < limit
    return number <= limit  # lte


def _same(value: object, expected: object) -> bool:
    if isinstance(value, str) and isinstance(expected, str):
        return fold(value[:MAX_FIELD]) == fold(expected[:MAX_FIELD])
    if isinstance(value, bool) or isinstance(expected, bool):
        return type(value) is type(expected) and value == expected
    number, other = _number(value), _number(expected)
    if number is not None and other is not None:
        return number == other
    return value is None and expected is None


def _number(value: object) -> int | float | None:
    # Not converted to float: an int past 1e308 would not convert, and int/float comparisons
    # are exact in Python.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if isinstance(value, float) and math.isnan(value) else value


def _describe(condition: Condition) -> str:
    if isinstance(condition, TextIs):
        shown = ", ".join(repr(v) for v in condition.values[:5])
        more = f" (+{len(condition.values) - 5})" if len(condition.values) > 5 else ""
        return f"{condition.field} {condition.op} {shown}{more}"
    if isinstance(condition, LanguageIs):
        return "language in " + ", ".join(condition.languages)
    if isinstance(condition, HasAttachment):
        return condition.model_dump_json(exclude={"kind"}, exclude_none=True)
    if isinstance(condition, CustomerIs):
        return f"customer.{condition.attribute} {condition.op} {condition.value!r}"
    return condition.kind
