"""KIP's tables, one module per aggregate. Importing this package registers them all."""

from .digbans import DigBan
from .organisations import Organisation, OrganisationKind
from .reference import Discipline, Phase
from .streets import Street
from .works import Precision, TrafficImpact, Visibility, Work, WorkChange, WorkChangeAction

__all__ = [
    "DigBan",
    "Discipline",
    "Organisation",
    "OrganisationKind",
    "Phase",
    "Precision",
    "Street",
    "TrafficImpact",
    "Visibility",
    "Work",
    "WorkChange",
    "WorkChangeAction",
]
