"""The audit trail: every write in KIP, with who (person, token or KIP itself), for which
organisation, when, what and the details. Works also keep their field-by-field history."""

from __future__ import annotations

from sqlalchemy.orm import Session

from .actors import Actor
from .models import AuditEvent


def audit(
    session: Session,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: int | None,
    **details: object,
) -> None:
    """Keep one write in the audit trail (flushed with the write it describes)."""
    session.add(
        AuditEvent(
            actor=actor.label,
            user_id=actor.user_id,
            token_id=actor.token_id,
            organisation_id=actor.organisation_id,
            action=action,
            object_type=object_type,
            object_id=object_id,
            details=details,
        )
    )
