"""Contacts, for agents (and integrators)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import String, cast, or_, select

from relais.contacts.models import Contact
from relais.contacts.schemas import ContactOut
from relais.core.errors import NotFound
from relais.deps import CurrentAgent, RuntimeDep

router = APIRouter(prefix="/contacts", tags=["contacts"])


@router.get("")
async def search_contacts(
    agent: CurrentAgent,
    runtime: RuntimeDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[ContactOut]:
    """Contacts whose name, e-mail or external id contains `q`."""
    query = select(Contact).order_by(Contact.updated_at.desc()).limit(limit)
    if q:
        like = f"%{q.lower()}%"
        query = query.where(
            or_(
                Contact.name.ilike(like),
                Contact.external_id.ilike(like),
                cast(Contact.emails, String).ilike(like),
            )
        )
    async with runtime.db.transaction(write=False) as uow:
        rows = await uow.session.scalars(query)
        return [ContactOut.model_validate(c) for c in rows]


@router.get("/{contact_id}")
async def get_contact(contact_id: str, agent: CurrentAgent, runtime: RuntimeDep) -> ContactOut:
    async with runtime.db.transaction(write=False) as uow:
        contact = await uow.session.get(Contact, contact_id)
        if contact is None:
            raise NotFound("No such contact.")
        return ContactOut.model_validate(contact)
