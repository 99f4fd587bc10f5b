"""One description of a work's fields (kip/work_fields.py), and every way in follows it.

For each limit of :mod:`kip.work_fields` - each text field's length, the tags' number and
length, the budget - every way a work comes in (the work form, the API, the import of a
file, the service that writes works, and the database itself) keeps a value at the limit
and refuses one past it, naming the field. The models, the migrations and the other copies
of the allowed geometry types say the same as the description.
"""

from __future__ import annotations

import csv
import importlib.util
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
import shapely
from pyproj import CRS
from shapely import Point
from sqlalchemy import CheckConstraint, func, select, text
from sqlalchemy.exc import DBAPIError
from test_api_works import feature
from test_work_form import form_errors, post_new_work
from test_work_form import planner as planner

from kip import geo, work_fields
from kip.actors import Actor
from kip.api.schemas import GeometrySchema
from kip.errors import ValidationError
from kip.io import geometry as intake
from kip.models import Work
from kip.services import accounts
from kip.services.imports import ImportRejected, ImportSettings, import_file
from kip.services.works import WorkData, create_work

SETTINGS = ImportSettings(region_bbox=(3.2, 50.7, 7.3, 53.6), max_bytes=10_000_000)
MIGRATIONS = Path(__file__).parent.parent / "migrations" / "versions"


def _email(length: int) -> str:
    """An address of exactly ``length`` characters (a 64-character local part, labels of at
    most 63 characters)."""
    local = "a" * 64
    remaining = length - len(local) - len("@") - len(".org")
    labels = []
    while remaining > 63:
        labels.append("b" * 62)
        remaining -= 63  # the label and its dot
    labels.append("b" * remaining)
    return f"{local}@{'.'.join(labels)}.org"


def _text(name: str, length: int) -> str:
    return _email(length) if name == "contact_email" else "x" * length


def _tags(count: int, length: int = 5) -> list[str]:
    return [f"t{i:0{length - 1}d}" for i in range(count)]


# (case, field, a value at the limit, a value one past it)
CASES: list[tuple[str, str, Any, Any]] = [
    (name, name, _text(name, limit), _text(name, limit + 1))
    for name, limit in work_fields.TEXT_LENGTHS.items()
] + [
    (
        "tag count",
        "tags",
        _tags(work_fields.TAG_COUNT),
        _tags(work_fields.TAG_COUNT + 1),
    ),
    ("tag length", "tags", _tags(1, work_fields.TAG_LENGTH), _tags(1, work_fields.TAG_LENGTH + 1)),
    ("budget", "budget", work_fields.BUDGET_BELOW - Decimal("0.01"), work_fields.BUDGET_BELOW),
]
IDS = [case[0] for case in CASES]


def test_the_cases_sit_exactly_at_and_past_each_limit():
    for name, limit in work_fields.TEXT_LENGTHS.items():
        assert len(_text(name, limit)) == limit and len(_text(name, limit + 1)) == limit + 1
    assert len(_tags(1, work_fields.TAG_LENGTH)[0]) == work_fields.TAG_LENGTH


@pytest.fixture
def org(make_org):
    return make_org("Gemeente Ede", kind="department")


@pytest.fixture
def writer(session, org) -> dict[str, str]:
    new = accounts.create_token(
        session, Actor.system("test"), organisation=org, scope="write", name="GIS"
    )
    return {"Authorization": f"Bearer {new.secret}"}


# --- the work form ----------------------------------------------------------------------


def _form_value(field: str, value: Any) -> str:
    return ",".join(value) if field == "tags" else str(value)


@pytest.mark.parametrize(("case", "field", "at_limit", "past_limit"), CASES, ids=IDS)
def test_the_form_keeps_the_limit_and_refuses_one_past_it(
    client, planner, session, case, field, at_limit, past_limit
):
    past = post_new_work(client, **{field: _form_value(field, past_limit)})
    assert past.status_code == 422
    assert field in form_errors(past.get_data(as_text=True))
    assert session.execute(select(func.count()).select_from(Work)).scalar_one() == 0

    kept = post_new_work(client, **{field: _form_value(field, at_limit)})
    assert kept.status_code == 302, form_errors(kept.get_data(as_text=True))
    work = session.execute(select(Work)).scalar_one()
    assert getattr(work, field) == at_limit


# --- the API ----------------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


@pytest.mark.parametrize(("case", "field", "at_limit", "past_limit"), CASES, ids=IDS)
def test_the_api_keeps_the_limit_and_refuses_one_past_it(
    client, writer, session, case, field, at_limit, past_limit
):
    past = client.post(
        "/api/v1/works", json=feature(**{field: _json_value(past_limit)}), headers=writer
    )
    assert past.status_code == 422, past.json
    assert field in str(past.json["errors"])

    kept = client.post(
        "/api/v1/works", json=feature(**{field: _json_value(at_limit)}), headers=writer
    )
    assert kept.status_code == 201, kept.json
    assert session.get(Work, kept.json["id"]).__getattribute__(field) == at_limit


# --- the import of a file -----------------------------------------------------------------


def _csv(path: Path, field: str, value: Any) -> Path:
    row = {
        "external_ref": "RIO-1",
        "title": "Vervangen riool",
        "discipline": "sewer",
        "phase": "planned",
        "start_date": "2027-03-01",
        "end_date": "2027-06-30",
        "x": "174000",
        "y": "450000",
    }
    row[field] = ";".join(value) if field == "tags" else str(value)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(row))
        writer.writeheader()
        writer.writerow(row)
    return path


@pytest.mark.parametrize(("case", "field", "at_limit", "past_limit"), CASES, ids=IDS)
def test_the_import_keeps_the_limit_and_refuses_one_past_it(
    session, org, tmp_path, case, field, at_limit, past_limit
):
    def run(value: Any):
        path = _csv(tmp_path / "werken.csv", field, value)
        return import_file(
            session, Actor.system("test"), org.id, path, settings=SETTINGS, crs=28992
        )

    with pytest.raises(ImportRejected) as refused:
        run(past_limit)
    past = refused.value.report
    assert [p["field"] for r in past.rows for p in r.problems] == [field]
    assert session.execute(select(func.count()).select_from(Work)).scalar_one() == 0

    kept = run(at_limit)
    assert kept.ok and kept.applied, kept.to_dict()
    assert getattr(session.execute(select(Work)).scalar_one(), field) == at_limit


# --- the service that writes works ----------------------------------------------------------


def _data(**overrides: Any) -> WorkData:
    values: dict[str, Any] = {
        "title": "Vervangen riool",
        "discipline": "sewer",
        "phase": "planned",
        "geometry": Point(174000, 450000),
        "start_date": date(2027, 3, 1),
        "end_date": date(2027, 6, 30),
    }
    values.update(overrides)
    return WorkData(**values)


@pytest.mark.parametrize(("case", "field", "at_limit", "past_limit"), CASES, ids=IDS)
def test_the_service_keeps_the_limit_and_refuses_one_past_it(
    session, org, case, field, at_limit, past_limit
):
    with pytest.raises(ValidationError) as refused:
        create_work(session, Actor.system("test"), org.id, _data(**{field: past_limit}))
    assert field in refused.value.details["errors"]

    work = create_work(session, Actor.system("test"), org.id, _data(**{field: at_limit}))
    assert getattr(work, field) == at_limit


# --- the database -----------------------------------------------------------------------


def _insert(session, org, field: str, value: Any) -> None:
    values = {
        "organisation_id": org.id,
        "title": "Riool",
        "discipline_code": "sewer",
        "phase_code": "planned",
        "start_date": date(2027, 3, 1),
        "end_date": date(2027, 6, 30),
        field: value,
    }
    columns = ", ".join(values)
    params = ", ".join(f":{name}" for name in values)
    session.execute(
        text(
            f"INSERT INTO works ({columns}, geom) VALUES ({params},"
            " ST_GeomFromText('POINT(174000 450000)', 28992))"
        ),
        values,
    )


# What the database says when a value is past a limit: too long for its column, against a
# CHECK constraint, too large for its number.
PAST_A_LIMIT = (
    psycopg.errors.StringDataRightTruncation,
    psycopg.errors.CheckViolation,
    psycopg.errors.NumericValueOutOfRange,
)


@pytest.mark.parametrize(("case", "field", "at_limit", "past_limit"), CASES, ids=IDS)
def test_the_database_keeps_the_limit_and_refuses_one_past_it(
    session, org, case, field, at_limit, past_limit
):
    with pytest.raises(DBAPIError) as refused, session.begin_nested():
        _insert(session, org, field, past_limit)
    assert isinstance(refused.value.orig, PAST_A_LIMIT), refused.value
    _insert(session, org, field, at_limit)
    assert session.execute(text(f"SELECT {field} FROM works")).scalar_one() == at_limit


# --- the description's copies -------------------------------------------------------------


def test_the_model_follows_the_description():
    columns = Work.__table__.c
    for name, limit in work_fields.TEXT_LENGTHS.items():
        if name != "description":  # text, with the CHECK below
            assert columns[name].type.length == limit, name
    assert columns["tags"].type.item_type.length == work_fields.TAG_LENGTH
    checks = {
        str(c.name).removeprefix("ck_works_"): str(c.sqltext)
        for c in Work.__table__.constraints
        if isinstance(c, CheckConstraint)
    }
    assert f"<= {work_fields.DESCRIPTION_LENGTH}" in checks["description_length"]
    assert f"<= {work_fields.TAG_COUNT}" in checks["tags_count"]
    assert (
        columns["budget"].type.precision - columns["budget"].type.scale
        == len(str(int(work_fields.BUDGET_BELOW))) - 1
    )


def test_the_migration_fixes_the_same_limits_in_the_database():
    spec = importlib.util.spec_from_file_location("m0010", MIGRATIONS / "0010_work_field_limits.py")
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert migration.DESCRIPTION_LENGTH == work_fields.DESCRIPTION_LENGTH
    assert migration.TAG_COUNT == work_fields.TAG_COUNT


def test_every_copy_of_the_geometry_types_is_the_description():
    allowed = set(work_fields.GEOMETRY_TYPES)
    assert set(geo.ALLOWED_TYPES) == allowed
    assert set(GeometrySchema().fields["type"].validate.choices) == allowed
    check = next(
        c
        for c in Work.__table__.constraints
        if isinstance(c, CheckConstraint) and str(c.name).endswith("geom_type")
    )
    assert {t.upper() for t in allowed} == set(re.findall(r"'(\w+)'", str(check.sqltext)))
    # The intake (API, forms, import) takes each allowed type and refuses the others.
    line = shapely.LineString([(174000, 450000), (174100, 450000)])
    samples = {
        "Point": shapely.Point(174000, 450000),
        "LineString": line,
        "Polygon": shapely.box(174000, 450000, 174100, 450100),
        "LinearRing": shapely.LinearRing([(174000, 450000), (174100, 450000), (174100, 450100)]),
        "GeometryCollection": shapely.GeometryCollection([line]),
    }
    for single in ("Point", "LineString", "Polygon"):
        samples[f"Multi{single}"] = getattr(shapely, f"Multi{single}")([samples[single]])
    _, problems = intake.prepare_geometries(
        np.array(list(samples.values()), dtype=object),
        CRS.from_epsg(28992),
        28992,
        SETTINGS.region_bbox,
    )
    taken = {kind for i, kind in enumerate(samples) if i not in problems}
    assert taken == allowed, problems
