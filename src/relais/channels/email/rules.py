"""The triage rules an admin writes: conditions on a mail and its customer, and what to do.

Closed pydantic models (``extra="forbid"``), tagged by ``kind``, so a rule set is JSON to store
and to edit over an API, and anything malformed is refused when saved, with a message that
names the place (pydantic's ``loc``): a pattern RE2 refuses, a nesting too deep, an unknown
field. The format is documented in ``docs/email-rules.md``; evaluation is in ``triage.py``.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from relais.channels.email.patterns import Op, PatternError, check

MAX_RULES: Final = 500
MAX_DEPTH: Final = 8  # all/any/not inside one another
MAX_CONDITIONS: Final = 200  # in one rule, all levels together
MAX_VALUES: Final = 200
MAX_NAME: Final = 200

Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME)]
Scalar = str | int | float | bool | None
TextField = Literal[
    "sender",  # the From address
    "sender_domain",  # what follows its last "@"
    "sender_name",
    "recipient",  # any of To, Cc and the mailbox it arrived in
    "subject",
    "body",  # the new text, without the quoted history
    "subject_or_body",
]


class _Closed(BaseModel):
    # No inf or NaN: a rule is stored as JSON, which has neither.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# --- conditions ------------------------------------------------------------------------------


class TextIs(_Closed):
    """``field`` passes ``op`` with any of ``values``; "recipient": any recipient does."""

    kind: Literal["text"] = "text"
    field: TextField
    op: Op
    values: tuple[str, ...] = Field(min_length=1, max_length=MAX_VALUES)

    @model_validator(mode="after")
    def _patterns(self) -> Self:
        for value in self.values:
            try:
                check(self.op, value)
            except PatternError as error:
                raise ValueError(str(error)) from None
        return self


class LanguageIs(_Closed):
    """The detected language is one of ``languages`` ("fr", "en", "unknown"...)."""

    kind: Literal["language"] = "language"
    languages: tuple[Annotated[str, Field(min_length=2, max_length=16)], ...] = Field(
        min_length=1, max_length=MAX_VALUES
    )

    @field_validator("languages")
    @classmethod
    def _lower(cls, languages: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(code.strip().lower() for code in languages)


class HasAttachment(_Closed):
    """At least one attachment passes every constraint given; none given: any attachment.
    ``content_type`` and ``filename`` are globs ("image/*", "*.pdf"); sizes are in bytes."""

    kind: Literal["attachment"] = "attachment"
    content_type: str | None = None
    filename: str | None = None
    min_size: int | None = Field(default=None, ge=0)
    max_size: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _globs(self) -> Self:
        for value in (self.content_type, self.filename):
            if value is not None:
                try:
                    check("glob", value)
                except PatternError as error:
                    raise ValueError(str(error)) from None
        return self


class CustomerIs(_Closed):
    """A customer attribute (``tier``, ``vip``, ``country``...) compared with ``value``.

    ``exists``: set and not null; ``equals``: same value (text compared folded, 1 equals 1.0);
    ``in``: equals one of a list; ``gt``/``gte``/``lt``/``lte``: numbers only. An attribute
    the customer lacks, or of another type, fails the test; it is never an error."""

    kind: Literal["customer"] = "customer"
    attribute: Name
    op: Literal["exists", "equals", "in", "gt", "gte", "lt", "lte"]
    value: Scalar | tuple[Scalar, ...] = None

    @model_validator(mode="after")
    def _value_fits(self) -> Self:
        if self.op == "in" and not isinstance(self.value, tuple):
            raise ValueError("'in' compares with a list of values")
        if self.op in ("gt", "gte", "lt", "lte") and (
            isinstance(self.value, bool) or not isinstance(self.value, int | float)
        ):
            raise ValueError(f"{self.op!r} compares with a number")
        if isinstance(self.value, tuple) and len(self.value) > MAX_VALUES:
            raise ValueError(f"at most {MAX_VALUES} values")
        return self


class AllOf(_Closed):
    kind: Literal["all"] = "all"
    of: tuple[Condition, ...] = Field(min_length=1)


class AnyOf(_Closed):
    kind: Literal["any"] = "any"
    of: tuple[Condition, ...] = Field(min_length=1)


class NotOf(_Closed):
    kind: Literal["not"] = "not"
    of: Condition


class Always(_Closed):
    """Every mail: for a rule at the end that catches the rest."""

    kind: Literal["always"] = "always"


Condition = Annotated[
    TextIs | LanguageIs | HasAttachment | CustomerIs | AllOf | AnyOf | NotOf | Always,
    Field(discriminator="kind"),
]


# --- actions ---------------------------------------------------------------------------------


class SetQueue(_Closed):
    kind: Literal["set_queue"] = "set_queue"
    queue: Name


class AddSkill(_Closed):
    """Ask for ``skill`` at ``level`` at least (the routing engine's levels, 1 to 10)."""

    kind: Literal["add_skill"] = "add_skill"
    skill: Name
    level: int = Field(default=1, ge=1, le=10)


class SetPriority(_Closed):
    kind: Literal["set_priority"] = "set_priority"
    priority: int = Field(ge=-100, le=100)


class AddTags(_Closed):
    kind: Literal["add_tags"] = "add_tags"
    tags: tuple[Name, ...] = Field(min_length=1, max_length=MAX_VALUES)


class AssignAgent(_Closed):
    kind: Literal["assign_agent"] = "assign_agent"
    agent_id: Name


class AutoAnswer(_Closed):
    """Answer at once with a template (never to spam, nor to automatic mail)."""

    kind: Literal["auto_answer"] = "auto_answer"
    template_id: Name


class CloseAsSpam(_Closed):
    """Close without an answer; the rules after this one are not looked at."""

    kind: Literal["close_spam"] = "close_spam"


class Stop(_Closed):
    """The rules after this one are not looked at."""

    kind: Literal["stop"] = "stop"


Action = Annotated[
    SetQueue | AddSkill | SetPriority | AddTags | AssignAgent | AutoAnswer | CloseAsSpam | Stop,
    Field(discriminator="kind"),
]


# --- rules -----------------------------------------------------------------------------------


class Rule(_Closed):
    id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
    name: Name
    enabled: bool = True
    when: Condition
    then: tuple[Action, ...] = Field(min_length=1, max_length=50)

    @model_validator(mode="after")
    def _bounded(self) -> Self:
        count = _count(self.when, 1)
        if count > MAX_CONDITIONS:
            raise ValueError(f"at most {MAX_CONDITIONS} conditions in a rule, not {count}")
        return self


class RuleSet(_Closed):
    """The rules in the order they are looked at."""

    rules: tuple[Rule, ...] = Field(default=(), max_length=MAX_RULES)

    @field_validator("rules")
    @classmethod
    def _unique_ids(cls, rules: tuple[Rule, ...]) -> tuple[Rule, ...]:
        seen: set[str] = set()
        for rule in rules:
            if rule.id in seen:
                raise ValueError(f"two rules have the id {rule.id!r}")
            seen.add(rule.id)
        return rules


def _count(condition: Condition, depth: int) -> int:
    if depth > MAX_DEPTH:
        raise ValueError(f"conditions nest at most {MAX_DEPTH} deep")
    if isinstance(condition, AllOf | AnyOf):
        return 1 + sum(_count(c, depth + 1) for c in condition.of)
    if isinstance(condition, NotOf):
        return 1 + _count(condition.of, depth + 1)
    return 1


AllOf.model_rebuild()
AnyOf.model_rebuild()
NotOf.model_rebuild()
