"""Organisations: add, find and list the departments and partners that plan works."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import policy
from ..actors import Actor
from ..audit import audit
from ..errors import Conflict, NotFound, ValidationError
from ..models import Organisation, OrganisationKind


def parse_kind(value: str) -> OrganisationKind:
    try:
        return OrganisationKind(value)
    except ValueError:
        allowed = ", ".join(k.value for k in OrganisationKind)
        raise ValidationError(
            f"unknown organisation kind {value!r}; choose one of {allowed}",
            errors={"kind": f"one of {allowed}"},
        ) from None


def add_organisation(
    session: Session,
    actor: Actor,
    name: str,
    kind: str | OrganisationKind,
    *,
    contact_name: str | None = None,
    contact_email: str | None = None,
    contact_phone: str | None = None,
) -> Organisation:
    policy.require_administrator(actor)
    name = " ".join(name.split())
    if not name:
        raise ValidationError("an organisation needs a name", errors={"name": "required"})
    kind = kind if isinstance(kind, OrganisationKind) else parse_kind(kind)
    exists = session.execute(
        select(Organisation.id).where(func.lower(Organisation.name) == name.lower())
    ).first()
    if exists:
        raise Conflict(f"an organisation named {name!r} already exists")
    org = Organisation(
        name=name,
        kind=kind,
        contact_name=contact_name,
        contact_email=contact_email,
        contact_phone=contact_phone,
    )
    session.add(org)
    session.flush()
    audit(session, actor, "organisation.create", "organisation", org.id, name=name, kind=kind.value)
    return org


def find_organisation(session: Session, name_or_id: str | int) -> Organisation:
    """By id, or by name (case-insensitive)."""
    if isinstance(name_or_id, int) or str(name_or_id).isdigit():
        org = session.get(Organisation, int(name_or_id))
    else:
        org = session.execute(
            select(Organisation).where(func.lower(Organisation.name) == str(name_or_id).lower())
        ).scalar_one_or_none()
    if org is None:
        raise NotFound(f"no organisation {name_or_id!r}")
    return org


def list_organisations(session: Session) -> list[tuple[Organisation, int]]:
    """Every organisation with its number of (not deleted) works, by name."""
    from ..models import Work

    counts = (
        select(Work.organisation_id, func.count().label("n"))
        .where(Work.deleted_at.is_(None))
        .group_by(Work.organisation_id)
        .subquery()
    )
    rows = session.execute(
        select(Organisation, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.organisation_id == Organisation.id)
        .order_by(Organisation.name)
    ).all()
    return [(org, n) for org, n in rows]
