"""KIP's tables, one module per aggregate. Importing this package registers them all."""

from .accounts import ApiToken, AuditEvent, Role, TokenScope, User
from .clashes import (
    REVIEW_STATUSES,
    Clash,
    ClashEvent,
    ClashEventAction,
    ClashKind,
    ClashRule,
    ClashStatus,
    ExcavationMode,
)
from .digbans import DigBan
from .organisations import Organisation, OrganisationKind
from .reference import Discipline, Phase
from .streets import Street
from .works import Precision, TrafficImpact, Visibility, Work, WorkChange, WorkChangeAction

__all__ = [
    "REVIEW_STATUSES",
    "ApiToken",
    "AuditEvent",
    "Clash",
    "ClashEvent",
    "ClashEventAction",
    "ClashKind",
    "ClashRule",
    "ClashStatus",
    "DigBan",
    "Discipline",
    "ExcavationMode",
    "Organisation",
    "OrganisationKind",
    "Phase",
    "Precision",
    "Role",
    "Street",
    "TokenScope",
    "TrafficImpact",
    "User",
    "Visibility",
    "Work",
    "WorkChange",
    "WorkChangeAction",
]
