"""A work's fields: the one description of what each may hold, for every way in.

The form (:class:`kip.web.forms.WorkForm`), the API (:mod:`kip.api.schemas`), the import
(:mod:`kip.io.rows`, :mod:`kip.io.geometry`), the service that writes works
(:mod:`kip.services.works`) and the database's columns and CHECK constraints
(:mod:`kip.models.works`, migration 0010) all read their limits from here;
tests/test_work_fields.py proves that each of them refuses one past a limit and keeps the
limit itself. The range of dates lives in :mod:`kip.dates` (a deployment may narrow it).

Nothing in this module knows Flask, a session or a file.
"""

from __future__ import annotations

from decimal import Decimal

# The most characters of each text field (the database's column sizes, and for the
# description its CHECK ``description_length``).
TEXT_LENGTHS: dict[str, int] = {
    "title": 200,
    "description": 10_000,
    "external_ref": 200,
    "contact_name": 200,
    "contact_email": 320,
    "contact_phone": 50,
}
TITLE_LENGTH = TEXT_LENGTHS["title"]
DESCRIPTION_LENGTH = TEXT_LENGTHS["description"]

# Discipline and phase codes (the reference tables' keys).
CODE_LENGTH = 40

# Programme and theme tags: at most this many, each at most this long (CHECK
# ``tags_count`` and the column's ``varchar(60)[]``).
TAG_LENGTH = 60
TAG_COUNT = 20

# A budget in euros, with cents: from 0 up to, not including, this (``numeric(14, 2)``).
BUDGET_BELOW = Decimal(10**12)

# The geometries a work (and a dig ban's area, a polygon) may be, as GeoJSON and shapely
# name them; the database's CHECK ``geom_type`` names them in capitals.
GEOMETRY_TYPES: tuple[str, ...] = (
    "Point",
    "LineString",
    "Polygon",
    "MultiPoint",
    "MultiLineString",
    "MultiPolygon",
)


def too_long(name: str, value: str | None) -> str | None:
    """What to say when the text field ``name`` holds more than it may, else None.

    >>> too_long("title", "x" * 201)
    'at most 200 characters (this has 201)'
    >>> too_long("title", "x" * 200) is None
    True
    """
    limit = TEXT_LENGTHS[name]
    if value is not None and len(value) > limit:
        return f"at most {limit:,} characters (this has {len(value):,})"
    return None


def tag_problem(tags: list[str] | None) -> str | None:
    """What to say when a work's tags break a rule, else None.

    >>> tag_problem(["x" * 61])
    'a tag has at most 60 characters'
    >>> tag_problem(["t"] * 21)
    'at most 20 tags (these are 21)'
    >>> tag_problem(["t"] * 20) is None
    True
    """
    if not tags:
        return None
    if any(len(tag) > TAG_LENGTH for tag in tags):
        return f"a tag has at most {TAG_LENGTH} characters"
    if len(tags) > TAG_COUNT:
        return f"at most {TAG_COUNT} tags (these are {len(tags)})"
    return None


def budget_problem(budget: Decimal | None) -> str | None:
    """What to say when a budget lies outside what KIP keeps, else None.

    >>> budget_problem(Decimal(-1))
    'a budget cannot be negative'
    >>> budget_problem(Decimal("999999999999.99")) is None
    True
    """
    if budget is None:
        return None
    if budget < 0:
        return "a budget cannot be negative"
    if budget >= BUDGET_BELOW:
        return "a budget must stay below 1,000,000,000,000 euros"
    return None
