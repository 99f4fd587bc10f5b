"""KIP's tables, one module per aggregate. Importing this package registers them all."""

from .accounts import ApiToken, AuditEvent, Role, TokenScope, User
from .digbans import DigBan
from .organisations import Organisation, OrganisationKind
from .reference import Discipline, Phase
from .streets import Street
from .works import Precision, TrafficImpact, Visibility, Work, WorkChange, WorkChangeAction

__all__ = [
    "ApiToken",
    "AuditEvent",
    "DigBan",
    "Discipline",
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
