"""``/api/v1/mail/rules``: the admin's triage rules, read, saved and tried on a sample mail
(docs/api.md, "E-mail triage rules"; the rule format: docs/email-rules.md). Admins only."""

from __future__ import annotations

from datetime import datetime
from typing import Final, Self

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.ext.asyncio import AsyncSession

from relais.channels.email.language import detect_language
from relais.channels.email.models import MailAddress
from relais.channels.email.parse import parse_message
from relais.channels.email.rule_store import StoredRules, do_save_rules, load_rules
from relais.channels.email.rules import MAX_RULES, Rule, RuleSet, Scalar
from relais.channels.email.setup import seed_rules
from relais.channels.email.triage import (
    MAX_BODY,
    MAX_FIELD,
    AttachmentFacts,
    DryRun,
    MessageFacts,
    dry_run,
    facts_from_mail,
    scalar_attributes,
)
from relais.contacts.models import Contact
from relais.core.errors import Forbidden
from relais.deps import CurrentAgent, RuntimeDep
from relais.identity.principals import AgentPrincipal

router = APIRouter(prefix="/mail", tags=["e-mail"])

MAX_RAW: Final = 2 * 1024 * 1024  # characters of a sample mail's source


def check_admin(agent: AgentPrincipal) -> AgentPrincipal:
    if agent.role != "admin":
        raise Forbidden("Admins only.")
    return agent


class RulesOut(BaseModel):
    version: int  # 0: the setting's rules (RELAIS_MAIL__TRIAGE_RULES), never saved
    rules: tuple[Rule, ...]
    updated_at: datetime | None
    updated_by: str | None

    @classmethod
    def of(cls, stored: StoredRules) -> RulesOut:
        return cls(
            version=stored.version,
            rules=stored.rules.rules,
            updated_at=stored.updated_at,
            updated_by=stored.updated_by,
        )


class RulesIn(RuleSet):
    """The whole ordered rule set, and the version it was read at."""

    version: int = Field(ge=0)


class FactsIn(MessageFacts):
    """Facts typed by hand, bounded like the intake bounds a mail's."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sender: str = Field(default="", max_length=MAX_FIELD)
    sender_name: str = Field(default="", max_length=MAX_FIELD)
    recipients: tuple[str, ...] = Field(default=(), max_length=100)
    subject: str = Field(default="", max_length=MAX_FIELD)
    body: str = Field(default="", max_length=MAX_BODY)
    language: str = Field(default="unknown", max_length=16)
    attachments: tuple[AttachmentFacts, ...] = Field(default=(), max_length=100)
    customer: dict[str, Scalar] = Field(default_factory=dict, max_length=200)


class DryRunIn(BaseModel):
    """A sample mail, as its source (``raw``) or as facts; the stored rules unless ``rules``
    (a rule set not saved yet) is given."""

    model_config = ConfigDict(extra="forbid")

    raw: str | None = Field(default=None, max_length=MAX_RAW)
    facts: FactsIn | None = None
    rules: tuple[Rule, ...] | None = Field(default=None, max_length=MAX_RULES)
    mailbox: str | None = Field(default=None, max_length=320)  # the address it arrived at

    @model_validator(mode="after")
    def _one_sample(self) -> Self:
        if (self.raw is None) == (self.facts is None):
            raise ValueError("give either raw (the mail's source) or facts")
        if self.rules is not None:
            RuleSet(rules=self.rules)  # ids unique
        return self


class DryRunOut(DryRun):
    facts: MessageFacts  # what the rules looked at (from raw: parsed, language detected)


@router.get("/rules")
async def get_rules(agent: CurrentAgent, runtime: RuntimeDep) -> RulesOut:
    """The ordered triage rules and their version."""
    check_admin(agent)
    async with runtime.db.transaction(write=False) as uow:
        return RulesOut.of(await load_rules(uow.session, seed_rules(runtime.settings)))


@router.put("/rules")
async def put_rules(body: RulesIn, agent: CurrentAgent, runtime: RuntimeDep) -> RulesOut:
    """Replace the whole rule set read at ``version``: 409 ``rules_changed`` if another save
    came first (nothing is written). Every process applies the new rules to the next mail."""
    check_admin(agent)
    rules = RuleSet(rules=body.rules)
    stored = await runtime.db.run(
        lambda uow: do_save_rules(uow, rules, version=body.version, agent_id=agent.agent_id)
    )
    return RulesOut.of(stored)


@router.post("/rules/dry-run")
async def rules_dry_run(body: DryRunIn, agent: CurrentAgent, runtime: RuntimeDep) -> DryRunOut:
    """What the rules would do with a sample mail, and why: every rule's status and every
    condition's outcome. Writes nothing."""
    check_admin(agent)
    async with runtime.db.transaction(write=False) as uow:
        if body.rules is not None:
            rules = RuleSet(rules=body.rules)
        else:
            rules = (await load_rules(uow.session, seed_rules(runtime.settings))).rules
        if body.facts is not None:
            facts = MessageFacts.model_validate(body.facts.model_dump())
        else:
            mail = parse_message((body.raw or "").encode("utf-8", "replace"))
            sender = mail.from_.address if mail.from_ else ""
            facts = facts_from_mail(
                mail,
                language=detect_language(
                    f"{mail.subject}\n{mail.text}", mail.headers.get("Content-Language")
                ),
                customer=await _customer(uow.session, sender),
                mailbox=body.mailbox,
            )
    explained = dry_run(rules, facts)
    return DryRunOut(result=explained.result, rules=explained.rules, facts=facts)


async def _customer(session: AsyncSession, address: str) -> dict[str, Scalar]:
    """The attributes of the Contact the intake would find for ``address``, if any."""
    known = await session.get(MailAddress, address[:320]) if address else None
    contact = await session.get(Contact, known.contact_id) if known else None
    return scalar_attributes(contact.attributes or {}) if contact else {}
