"""Who plans in the demo town: Ede's departments and fictional partners, with their planners.

The partners' names are made up; e-mail addresses use the reserved ``.example`` domain.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..models import OrganisationKind


@dataclass(frozen=True)
class DemoOrganisation:
    key: str
    name: str
    kind: OrganisationKind
    contact_name: str
    contact_email: str
    # The people whose names appear as the contact of the organisation's works.
    planners: tuple[tuple[str, str], ...]


def _org(
    key: str, name: str, kind: OrganisationKind, domain: str, *people: str
) -> DemoOrganisation:
    def email(person: str) -> str:
        initial, *rest = person.split()
        return f"{initial[0].lower()}.{''.join(rest).lower()}@{domain}"

    return DemoOrganisation(
        key=key,
        name=name,
        kind=kind,
        contact_name=people[0],
        contact_email=email(people[0]),
        planners=tuple((person, email(person)) for person in people),
    )


_DEPARTMENT = OrganisationKind.DEPARTMENT
_EDE = "gemeente-ede.example"

ORGANISATIONS: tuple[DemoOrganisation, ...] = (
    _org("sewer", "Gemeente Ede – Riolering", _DEPARTMENT, _EDE, "Ruud Bakker", "Fatma Yilmaz"),
    _org("roads", "Gemeente Ede – Wegen", _DEPARTMENT, _EDE, "Marieke Jansen", "Koen Visser"),
    _org("green", "Gemeente Ede – Groen", _DEPARTMENT, _EDE, "Sanne de Wit", "Pieter Mulder"),
    _org("lighting", "Gemeente Ede – Openbare verlichting", _DEPARTMENT, _EDE, "Henk Smit"),
    _org("traffic", "Gemeente Ede – Verkeer", _DEPARTMENT, _EDE, "Lotte Meijer", "Ahmed Amrani"),
    _org("wijk", "Gemeente Ede – Wijkbeheer", _DEPARTMENT, _EDE, "Joke van Dam"),
    _org(
        "grid",
        "Netwerk Gelderse Vallei",
        OrganisationKind.GRID_OPERATOR,
        "netwerkgeldersevallei.example",
        "Erik Hoekstra",
        "Nadia El Idrissi",
        "Bas Kok",
    ),
    _org(
        "water",
        "Waterbedrijf Vallei en Veluwe",
        OrganisationKind.WATER,
        "waterbedrijf-vv.example",
        "Ingrid Bos",
        "Tom Peters",
    ),
    _org(
        "telecom",
        "Glasvezel Oost Netwerken",
        OrganisationKind.TELECOM,
        "glasvezeloost.example",
        "Daan Vermeulen",
        "Eva Koster",
    ),
    _org(
        "heat",
        "Valleiwarmte",
        OrganisationKind.GRID_OPERATOR,
        "valleiwarmte.example",
        "Mark Dijkstra",
    ),
    _org(
        "housing",
        "Woonstichting Valleihuis",
        OrganisationKind.HOUSING,
        "valleihuis.example",
        "Annemiek Vos",
        "Jeroen Prins",
    ),
)

# Which organisation does the work of a discipline, unless a plan says otherwise.
DISCIPLINE_ORGANISATION = {
    "sewer": "sewer",
    "water": "water",
    "gas": "grid",
    "electricity": "grid",
    "district_heating": "heat",
    "telecom": "telecom",
    "road": "roads",
    "green": "green",
    "lighting": "lighting",
    "housing": "housing",
    "traffic": "traffic",
    "other": "wijk",
}

# The middle part of each discipline's external references: DEMO-SEW-0001, ...
REF_PREFIX = {
    "sewer": "SEW",
    "water": "WAT",
    "gas": "GAS",
    "electricity": "ELE",
    "district_heating": "HEA",
    "telecom": "TEL",
    "road": "ROA",
    "green": "GRN",
    "lighting": "LGT",
    "housing": "HOU",
    "traffic": "TRA",
    "other": "OTH",
}
