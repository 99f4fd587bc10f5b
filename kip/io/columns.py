"""Which source column holds which field of a work, and which source word means which value.

Common column names are recognised in Dutch and English (see :data:`FIELD_NAMES`); a
mapping file (:class:`Mapping`, YAML or JSON) names the other columns, maps source values
to KIP values and gives defaults. Nothing here reads a file's features or knows a session.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ValidationError

# KIP field -> recognised column names, best first (names are compared normalised: see
# :func:`normalise`). When a file has several, the first in this order wins.
FIELD_NAMES: dict[str, tuple[str, ...]] = {
    "external_ref": (
        "external_ref",
        "kenmerk",
        "referentie",
        "reference",
        "extern_kenmerk",
        "ref",
        "projectnummer",
        "project_nr",
        "projectnr",
        "project_id",
        "werknummer",
        "id",
    ),
    "title": ("title", "titel", "naam", "name", "projectnaam", "project_naam", "onderwerp"),
    "description": (
        "description",
        "omschrijving",
        "beschrijving",
        "toelichting",
        "opmerking",
        "opmerkingen",
    ),
    "discipline": (
        "discipline",
        "vakdiscipline",
        "vakdiscipl",
        "discipline_code",
        "vakgebied",
        "werksoort",
        "soort_werk",
    ),
    "phase": ("phase", "fase", "phase_code", "status", "stadium"),
    "start_date": (
        "start_date",
        "start",
        "begin",
        "startdatum",
        "begindatum",
        "datum_van",
        "start_datum",
        "begin_datum",
        "aanvang",
        "van",
        "date_from",
    ),
    "end_date": (
        "end_date",
        "end",
        "eind",
        "einde",
        "einddatum",
        "datum_tot",
        "eind_datum",
        "tot",
        "date_to",
    ),
    "precision": ("precision", "precisie", "nauwkeurigheid"),
    "excavation": (
        "excavation",
        "graaf",
        "graven",
        "graafwerk",
        "graafwerkzaamheden",
        "grondroerend",
        "opent_grond",
    ),
    "traffic_impact": ("traffic_impact", "hinder", "verkeershinder", "afsluiting"),
    "visibility": ("visibility", "zichtbaarheid", "openbaarheid"),
    "contact_name": ("contact_name", "contactpersoon", "contact", "contact_naam"),
    "contact_email": ("contact_email", "email", "e_mail", "emailadres", "mail"),
    "contact_phone": ("contact_phone", "telefoon", "telefoonnummer", "phone", "tel"),
    "budget": ("budget", "begroting", "raming", "bedrag", "kosten"),
    "tags": ("tags", "thema", "themas", "programma", "programme", "labels"),
}

# Columns a CSV may hold its geometry in.
GEOMETRY_NAMES: dict[str, tuple[str, ...]] = {
    "wkt": ("wkt", "geometry", "geometrie", "geom", "the_geom", "wkt_geom", "shape"),
    "x": ("x", "rd_x", "x_rd", "xcoord", "x_coord", "coord_x"),
    "y": ("y", "rd_y", "y_rd", "ycoord", "y_coord", "coord_y"),
    "lon": ("lon", "lng", "long", "longitude", "lengtegraad"),
    "lat": ("lat", "latitude", "breedtegraad"),
}

REQUIRED = ("external_ref", "title", "discipline", "phase", "start_date")

# Source words (normalised) -> KIP value, for the fields with a fixed set of values. The
# reference lists' own codes and labels (Dutch and English) are recognised as well.
VALUE_WORDS: dict[str, dict[str, str]] = {
    "discipline": {
        "riolering": "sewer",
        "riool": "sewer",
        "riolen": "sewer",
        "drinkwater": "water",
        "waterleiding": "water",
        "elektriciteit": "electricity",
        "electra": "electricity",
        "stroom": "electricity",
        "warmtenet": "district_heating",
        "stadsverwarming": "district_heating",
        "warmte": "district_heating",
        "glasvezel": "telecom",
        "data": "telecom",
        "weg": "road",
        "wegen": "road",
        "verharding": "road",
        "asfalt": "road",
        "bestrating": "road",
        "groen": "green",
        "verlichting": "lighting",
        "openbare_verlichting": "lighting",
        "ov": "lighting",
        "woningbouw": "housing",
        "verkeer": "traffic",
        "verkeersmaatregel": "traffic",
        "overig": "other",
        "anders": "other",
    },
    "phase": {
        "initiatief": "initiative",
        "verkenning": "initiative",
        "ontwerp": "design",
        "gepland": "planned",
        "planning": "planned",
        "definitief": "final",
        "in_uitvoering": "in_progress",
        "uitvoering": "in_progress",
        "gereed": "completed",
        "afgerond": "completed",
        "klaar": "completed",
        "vervallen": "cancelled",
        "geannuleerd": "cancelled",
        "canceled": "cancelled",
    },
    "traffic_impact": {
        "geen": "none",
        "rijstrook": "lane",
        "rijstrookafsluiting": "lane",
        "gedeeltelijk": "lane",
        "afsluiting": "closure",
        "volledige_afsluiting": "closure",
        "volledig": "closure",
        "closed": "closure",
    },
    "visibility": {
        "openbaar": "public",
        "publiek": "public",
        "partner": "partners",
        "vertrouwelijk": "confidential",
        "intern": "confidential",
    },
    "precision": {"dag": "day", "maand": "month", "kwartaal": "quarter", "jaar": "year"},
}

# Fields the KML drivers add to every placemark that are not the planner's data.
KML_NOISE = frozenset(
    {
        "timestamp",
        "altitudemode",
        "tessellate",
        "extrude",
        "visibility",
        "draworder",
        "icon",
        "snippet",
    }
)


# Fields the KML drivers give every placemark; used only when the file fills them in.
KML_OWN = frozenset({"id", "name", "description", "begin", "end"})


def normalise(name: Any) -> str:
    """A column name or a value word, compared without case, accents or punctuation.

    >>> normalise(" Datum van ")
    'datum_van'
    >>> normalise("Vervallen ")
    'vervallen'
    >>> normalise("Zichtbaarheid/Openbaarheid")
    'zichtbaarheid_openbaarheid'
    """
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


@dataclass
class Mapping:
    """What a mapping file says: columns, value translations, defaults, the CRS.

    ``columns`` maps a KIP field to a source column; ``values`` maps, per KIP field, a
    source value to a KIP value; ``defaults`` gives a KIP field's value where the file
    has no column for it or the cell is empty; ``ignore`` lists source columns to skip.
    """

    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)
    ignore: list[str] = field(default_factory=list)
    crs: int | None = None

    @classmethod
    def load(cls, path: str | Path) -> Mapping:
        """Read a mapping file (YAML, of which JSON is a part); a bad one is a ValidationError."""

        path = Path(path)
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise ValidationError(f"the mapping file {path.name} cannot be read: {exc}") from None
        return cls.parse(content, path.name)

    @classmethod
    def parse(cls, content: bytes, name: str) -> Mapping:
        """A mapping file's content (an upload, say); a bad one is a ValidationError."""
        import yaml

        path = Path(name)
        try:
            text = content.decode("utf-8")
            raw = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
        except RecursionError:
            raise ValidationError(
                f"the mapping file {path.name} is nested too deeply to read; a mapping has "
                "sections of names and values, two levels deep"
            ) from None
        except (ValueError, yaml.YAMLError) as exc:
            reason = str(exc).splitlines()[0]
            raise ValidationError(
                f"the mapping file {path.name} is not valid {_kind(path)}: {reason}"
            ) from None
        return cls.from_dict(raw or {}, source=path.name)

    @classmethod
    def from_dict(cls, raw: Any, source: str = "the mapping") -> Mapping:
        if not isinstance(raw, dict):
            raise ValidationError(f"{source} must be a mapping of sections (columns, values, ...)")
        unknown = set(raw) - {"columns", "values", "defaults", "ignore", "crs"}
        if unknown:
            raise ValidationError(
                f"{source}: unknown section(s) {', '.join(sorted(unknown))}; "
                "known: columns, values, defaults, ignore, crs"
            )
        columns = _section(raw, "columns", source)
        values = _section(raw, "values", source)
        defaults = _section(raw, "defaults", source)
        for section, keys in (("columns", columns), ("values", values), ("defaults", defaults)):
            wrong = [k for k in keys if k not in FIELD_NAMES]
            if wrong:
                raise ValidationError(
                    f"{source}: {section} names unknown field(s) {', '.join(map(str, wrong))}; "
                    f"KIP's fields are {', '.join(FIELD_NAMES)}"
                )
        for name, table in values.items():
            if not isinstance(table, dict):
                raise ValidationError(f"{source}: values.{name} must map source values to KIP")
        for name in ("external_ref",):
            if name in defaults:
                raise ValidationError(f"{source}: {name} cannot have a default")
        crs = raw.get("crs")
        if crs is not None:
            try:
                crs = int(str(crs).upper().removeprefix("EPSG:"))
            except ValueError:
                raise ValidationError(f"{source}: crs must be an EPSG code, not {crs!r}") from None
        ignore = raw.get("ignore") or []
        if not isinstance(ignore, list):
            raise ValidationError(f"{source}: ignore must be a list of column names")
        return cls(
            columns={k: str(v) for k, v in columns.items()},
            values={k: {str(a): str(b) for a, b in t.items()} for k, t in values.items()},
            defaults=dict(defaults),
            ignore=[str(c) for c in ignore],
            crs=crs,
        )


def _kind(path: Path) -> str:
    return "JSON" if path.suffix.lower() == ".json" else "YAML"


def _section(raw: dict, name: str, source: str) -> dict:
    value = raw.get(name) or {}
    if not isinstance(value, dict):
        raise ValidationError(f"{source}: {name} must be a mapping")
    return value


@dataclass
class ColumnChoice:
    """Which source column each KIP field comes from, and what was left out."""

    fields: dict[str, str]
    ignored: list[str]


def choose_columns(
    names: Iterable[str], mapping: Mapping, *, skip: Iterable[str] = ()
) -> ColumnChoice:
    """Match source columns to KIP fields: the mapping first, then the recognised names.

    >>> choose_columns(["Kenmerk", "Titel", "Startdatum", "OBJECTID"], Mapping()).fields
    {'external_ref': 'Kenmerk', 'title': 'Titel', 'start_date': 'Startdatum'}
    """
    names = [n for n in names if n not in set(skip)]
    by_norm: dict[str, str] = {}
    for name in names:
        by_norm.setdefault(normalise(name), name)
    chosen: dict[str, str] = {}
    for kip_field, column in mapping.columns.items():
        if column not in names:
            matches = [n for n in names if normalise(n) == normalise(column)]
            if not matches:
                raise ValidationError(
                    f"the mapping names column {column!r} for {kip_field}, but the file has "
                    f"no such column (its columns: {', '.join(names) or 'none'})",
                    errors={kip_field: f"no column {column!r}"},
                )
            column = matches[0]
        chosen[kip_field] = column
    taken = set(chosen.values()) | set(mapping.ignore)
    for kip_field, candidates in FIELD_NAMES.items():
        if kip_field in chosen:
            continue
        for candidate in candidates:
            column = by_norm.get(candidate)
            if column is not None and column not in taken:
                chosen[kip_field] = column
                taken.add(column)
                break
    ordered = {f: chosen[f] for f in FIELD_NAMES if f in chosen}
    return ColumnChoice(ordered, [n for n in names if n not in taken])


def find_geometry_columns(names: Iterable[str], mapping: Mapping) -> dict[str, str]:
    """The CSV columns holding a geometry: ``wkt``, or ``x``/``y``, or ``lon``/``lat``."""
    by_norm: dict[str, str] = {}
    for name in names:
        if name not in mapping.columns.values():
            by_norm.setdefault(normalise(name), name)
    found: dict[str, str] = {}
    for role, candidates in GEOMETRY_NAMES.items():
        for candidate in candidates:
            if candidate in by_norm:
                found[role] = by_norm[candidate]
                break
    return found
