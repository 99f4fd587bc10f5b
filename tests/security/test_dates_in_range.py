"""No stored date can break a read (issue 13, point 1).

A work whose end date was 9999-12-31 got a period (the daterange the database generates)
that ends in the year 10000, which the driver cannot read: the list of works, the work's
page and even its owner's DELETE answered 500 for everybody. Now every way in - the work
form, the API (POST, PATCH, the draft check), the import of a GIS file (service, page and
CLI), the dig-ban form, API and CLI - refuses a date outside the range KIP keeps (by
default 1900-01-01 to 2199-12-31), names the field, and writes nothing; and the database
refuses to store such a date at all, so no row can take a read down.

The agreement of the database's CHECK with the application's rule, the configuration and
the demo loader are in ``test_dates_rule.py``; the migration of rows already outside the
range in ``test_dates_migration.py``.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from flask import Flask
from shapely import box
from sqlalchemy import Connection, func, select, text
from sqlalchemy.exc import IntegrityError
from test_api_works import feature
from test_import_files import plan_fields, rd_line, write_gis
from test_work_form import POLYGON as RECTANGLE
from test_work_form import csrf_of, feature_collection, form_errors, page_login

from kip.actors import Actor
from kip.cli import main
from kip.models import DigBan, Work
from kip.services import accounts, digbans
from kip.services.imports import ImportRejected, ImportSettings, import_file

# (field, day): a day just outside each end of the range, and the ones seen in the wild.
OUTSIDE = [
    ("start_date", "1899-12-31"),
    ("start_date", "0001-01-01"),
    ("end_date", "2200-01-01"),
    ("end_date", "9999-12-31"),
]
X, Y = 174000.0, 450000.0
SETTINGS = ImportSettings(region_bbox=(3.2, 50.7, 7.3, 53.6), max_bytes=10_000_000)


@pytest.fixture
def org(make_org):
    return make_org("Gemeente Ede")


def _token(session, org, scope: str) -> dict[str, str]:
    new = accounts.create_token(
        session, Actor.system("test"), organisation=org, scope=scope, name=f"GIS ({scope})"
    )
    return {"Authorization": f"Bearer {new.secret}"}


@pytest.fixture
def writer(session, org) -> dict[str, str]:
    return _token(session, org, "write")


@pytest.fixture
def reader(session, org) -> dict[str, str]:
    return _token(session, org, "read")


@pytest.fixture
def planner(client, make_user, password, org):
    user = make_user("planner", organisation=org)
    page_login(client, user, password)
    return user


@pytest.fixture
def coordinator(client, make_user, password, org):
    user = make_user("coordinator", organisation=org)
    page_login(client, user, password)
    client.environ_base["HTTP_X_CSRFTOKEN"] = csrf_of(client, "/account")  # for the API
    return user


@pytest.fixture
def kip(app: Flask, connection: Connection):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(main, [str(a) for a in args])


def _works_titled(session, title: str) -> int:
    return session.execute(select(func.count()).where(Work.title == title)).scalar_one()


def _bans_titled(session, title: str) -> int:
    return session.execute(select(func.count()).where(DigBan.title == title)).scalar_one()


def _refused(response, field: str) -> None:
    """422 problem+json whose errors name ``field`` and say the range."""
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    message = response.json["errors"][field]
    assert "1900-01-01" in message and "2199-12-31" in message, message


# --- the work form ----------------------------------------------------------------------


def _work_form(**overrides: str) -> dict[str, str]:
    fields = {
        "title": "Riool buiten de tijd",
        "discipline": "sewer",
        "phase": "design",
        "start_date": "2027-03-01",
        "end_date": "2027-04-30",
        "precision": "day",
        "traffic_impact": "none",
        "visibility": "partners",
        "geometry": feature_collection(RECTANGLE),
    }
    fields.update(overrides)
    return fields


@pytest.mark.parametrize(("field", "day"), OUTSIDE)
def test_the_work_form_refuses_a_date_outside_the_range(client, planner, session, field, day):
    data = {**_work_form(**{field: day}), "csrf_token": csrf_of(client, "/works/new")}

    response = client.post("/works/new", data=data)

    assert response.status_code == 422
    message = form_errors(response.get_data(as_text=True))[field]
    assert "1900" in message and "2199" in message, message
    assert _works_titled(session, "Riool buiten de tijd") == 0


def test_the_work_form_refuses_it_on_an_edit_too(client, planner, session, make_work, org):
    work = make_work(org, title="Riool Dorpsstraat", geometry=box(X, Y, X + 50, Y + 20))
    url = f"/works/{work.id}/edit"
    data = {
        **_work_form(title="Riool Dorpsstraat", end_date="9999-12-31"),
        "version": str(work.version),
        "csrf_token": csrf_of(client, url),
    }

    response = client.post(url, data=data)

    assert response.status_code == 422
    assert "2199" in form_errors(response.get_data(as_text=True))["end_date"]
    session.refresh(work)
    assert (work.end_date, work.version) == (date(2027, 6, 30), 1)


# --- the API ----------------------------------------------------------------------------


@pytest.mark.parametrize(("field", "day"), OUTSIDE)
def test_the_api_refuses_a_new_work_outside_the_range(client, writer, session, field, day):
    response = client.post(
        "/api/v1/works", json=feature(title="Kabel buiten de tijd", **{field: day}), headers=writer
    )

    _refused(response, field)
    assert _works_titled(session, "Kabel buiten de tijd") == 0


@pytest.mark.parametrize(("field", "day"), OUTSIDE)
def test_the_api_refuses_a_change_outside_the_range(
    client, writer, session, make_work, org, field, day
):
    work = make_work(org)
    response = client.patch(
        f"/api/v1/works/{work.id}",
        json={"properties": {field: day}},
        headers={**writer, "If-Match": f'"v{work.version}"'},
    )

    _refused(response, field)
    session.refresh(work)
    assert (work.start_date, work.end_date, work.version) == (
        date(2027, 3, 1),
        date(2027, 6, 30),
        1,
    )


@pytest.mark.parametrize(("field", "day"), OUTSIDE)
def test_the_draft_check_refuses_a_date_outside_the_range(client, reader, field, day):
    response = client.post("/api/v1/works/check", json=feature(**{field: day}), headers=reader)

    _refused(response, field)


# --- the import: a file written by GDAL, through the service, the page and the CLI --------


def _plan_file(tmp_path: Path, name: str = "plan.gpkg", **columns) -> Path:
    """Three works in a GeoPackage written through GDAL (pyogrio); ``columns`` replace some."""
    return write_gis(tmp_path / name, [rd_line(i) for i in range(3)], plan_fields(3, **columns))


CELLS = {
    # The end as text, as most spreadsheets and GIS layers hold it.
    "text end": ("end_date", {"einddatum": ["2027-06-30", "9999-12-31", "2027-06-30"]}),
    # The end in a GDAL Date field (a GeoPackage DATE column).
    "date field end": (
        "end_date",
        {"einddatum": [np.datetime64(d) for d in ("2027-06-30", "9999-12-31", "2027-06-30")]},
    ),
    # A start known to the year, long ago: the first day is 1850-01-01.
    "year start": ("start_date", {"startdatum": ["2027-03-01", "1850", "2027-03-01"]}),
    # A year without an end stands for the whole year: named as the start cell that gave it.
    "year alone": (
        "start_date",
        {"startdatum": ["2027-03-01", "2200", "2027"], "einddatum": ["2027-06-30", "", ""]},
    ),
}


@pytest.mark.parametrize("case", list(CELLS))
def test_an_import_names_the_row_and_field_and_writes_nothing(session, org, tmp_path, case):
    field, columns = CELLS[case]
    path = _plan_file(tmp_path, **columns)

    with pytest.raises(ImportRejected) as rejected:
        import_file(session, Actor.system("import"), org.id, path, settings=SETTINGS)

    rows = {r.row: r for r in rejected.value.report.rows}
    assert rows[2].action == "error"
    [problem] = rows[2].problems
    assert problem["field"] == field
    assert "outside the dates KIP keeps (1900-01-01 to 2199-12-31)" in problem["message"]
    assert not rows[1].problems and not rows[3].problems
    count = select(func.count()).where(Work.organisation_id == org.id)
    assert session.execute(count).scalar_one() == 0


def test_the_import_page_shows_the_row_and_writes_nothing(client, planner, session, tmp_path):
    path = _plan_file(tmp_path, einddatum=["2027-06-30", "9999-12-31", "2027-06-30"])
    data = {
        "csrf_token": csrf_of(client, "/works/import"),
        "file": (path.open("rb"), "plan.gpkg"),
    }

    response = client.post("/works/import", data=data, content_type="multipart/form-data")

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "RIO-002" in page and "9999-12-31 is outside the dates KIP keeps" in page
    count = select(func.count()).where(Work.organisation_id == planner.organisation_id)
    assert session.execute(count).scalar_one() == 0


def test_kip_import_names_the_row_and_field_and_writes_nothing(kip, session, org, tmp_path):
    path = _plan_file(tmp_path, einddatum=["2027-06-30", "9999-12-31", "2027-06-30"])

    result = kip("import", path, "--org", org.name)

    assert result.exit_code == 1, result.output
    [line] = [ln for ln in result.output.splitlines() if "RIO-002" in ln]
    assert line.split()[0] == "2"
    assert "end_date: 9999-12-31 is outside the dates KIP keeps" in line
    assert "Traceback" not in result.output
    count = select(func.count()).where(Work.organisation_id == org.id)
    assert session.execute(count).scalar_one() == 0


# --- dig bans: form, API, CLI -----------------------------------------------------------


def _ban_form(**overrides: str) -> dict[str, str]:
    return {
        "title": "Graafverbod buiten de tijd",
        "reason": "Nieuwe deklaag",
        "start_date": "2027-03-01",
        "end_date": "2030-02-28",
        "geometry": feature_collection(RECTANGLE),
        **overrides,
    }


@pytest.mark.parametrize(("field", "day"), OUTSIDE)
def test_the_dig_ban_form_refuses_a_date_outside_the_range(
    client, coordinator, session, field, day
):
    data = {**_ban_form(**{field: day}), "csrf_token": csrf_of(client, "/digbans/new")}

    response = client.post("/digbans/new", data=data)

    assert response.status_code == 422
    message = form_errors(response.get_data(as_text=True))[field]
    assert "1900" in message and "2199" in message, message
    assert _bans_titled(session, "Graafverbod buiten de tijd") == 0


def test_the_date_pickers_offer_only_the_days_kip_keeps(client, coordinator):
    for url in ("/works/new", "/digbans/new"):
        html = client.get(url).get_data(as_text=True)
        for name in ("start_date", "end_date"):
            tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
            assert tag, (url, name)
            assert 'min="1900-01-01"' in tag.group(0) and 'max="2199-12-31"' in tag.group(0)


def _ban_feature(**properties: str) -> dict:
    ring = [[5.66, 52.04], [5.67, 52.04], [5.67, 52.045], [5.66, 52.045], [5.66, 52.04]]
    props = {"title": "Graafverbod buiten de tijd", "start_date": "2027-03-01"}
    props.update({"end_date": "2030-02-28", **properties})
    geometry = {"type": "Polygon", "coordinates": [ring]}
    return {"type": "Feature", "geometry": geometry, "properties": props}


@pytest.fixture
def ban(session, org) -> DigBan:
    made = digbans.create_dig_ban(
        session,
        Actor.system("test"),
        digbans.DigBanData(
            organisation_id=org.id,
            title="Nieuw asfalt Dorpsstraat",
            start_date=date(2027, 3, 1),
            end_date=date(2030, 2, 28),
            area=box(X, Y, X + 100, Y + 20),
        ),
    )
    session.flush()
    return made


@pytest.mark.parametrize(("field", "day"), OUTSIDE)
def test_the_dig_ban_api_refuses_a_date_outside_the_range(
    client, coordinator, session, ban, field, day
):
    created = client.post("/api/v1/digbans", json=_ban_feature(**{field: day}))
    changed = client.patch(
        f"/api/v1/digbans/{ban.id}",
        json={"properties": {field: day}},
        headers={"If-Match": f'"v{ban.version}"'},
    )

    _refused(created, field)
    _refused(changed, field)
    assert _bans_titled(session, "Graafverbod buiten de tijd") == 0
    session.refresh(ban)
    assert (ban.start_date, ban.end_date, ban.version) == (date(2027, 3, 1), date(2030, 2, 28), 1)


def test_kip_digbans_names_the_option_and_writes_nothing(kip, session, org, ban):
    area = box(X, Y + 100, X + 100, Y + 120).wkt

    created = kip(
        "digbans", "create", "--org", org.id, "--title", "Graafverbod buiten de tijd",
        "--from", "2027-03-01", "--to", "9999-12-31", "--area", area,
    )  # fmt: skip
    ended = kip("digbans", "end", ban.id, "--on", "9999-12-31")

    for result, option in ((created, "--to"), (ended, "--on")):
        assert result.exit_code == 1, result.output
        [line] = result.output.strip().splitlines()
        assert line.startswith("Error: ")
        assert f"{option}: 9999-12-31 is outside the dates KIP keeps" in line
    assert _bans_titled(session, "Graafverbod buiten de tijd") == 0
    session.refresh(ban)
    assert (ban.end_date, ban.version) == (date(2030, 2, 28), 1)


# --- the reads that used to fail ----------------------------------------------------------

STORED = {
    # The extreme days KIP keeps: stored, and read everywhere.
    "first and last day kept": (date(1900, 1, 1), date(2199, 12, 31), True),
    # What an importer once let through: the database refuses it now.
    "ends in 9999": (date(2027, 3, 1), date(9999, 12, 31), False),
    "starts in the year 1": (date(1, 1, 1), date(2027, 6, 30), False),
}


def _reads(client, work_id: int, writer: dict[str, str]) -> dict[str, int]:
    """The status of every read that meets the work (and of its owner's DELETE, last)."""
    anonymous: dict[str, str] = {}
    reads = [
        ("/api/v1/works", anonymous),
        ("/api/v1/works", writer),
        ("/api/v1/works?start=1900-01-01&end=2199-12-31", writer),
        (f"/api/v1/works/{work_id}", anonymous),
        (f"/api/v1/works/{work_id}/history", writer),
        ("/api/v1/map/works", writer),
        (f"/works/{work_id}", anonymous),
        ("/", anonymous),
        ("/api/v1/exports?format=csv", writer),
    ]
    statuses = {
        f"GET {url} ({'token' if headers else 'anonymous'})": client.get(
            url, headers=headers
        ).status_code
        for url, headers in reads
    }
    owner = {**writer, "If-Match": '"v1"'}
    statuses["DELETE"] = client.delete(f"/api/v1/works/{work_id}", headers=owner).status_code
    return statuses


@pytest.mark.parametrize("case", list(STORED))
def test_whatever_the_database_stores_every_read_answers(client, session, org, writer, case):
    start, end, kept = STORED[case]
    insert = text(
        "INSERT INTO works (organisation_id, title, discipline_code, phase_code, geom,"
        " start_date, end_date, visibility, excavation)"
        " VALUES (:org, 'Riool met verre datum', 'sewer', 'planned',"
        " ST_GeomFromText('LINESTRING(174000 450000, 174100 450000)', 28992),"
        " :start, :end, 'public', true) RETURNING id"
    )
    try:
        with session.begin_nested():  # written past the app, as a faulty tool would
            work_id = session.execute(insert, {"org": org.id, "start": start, "end": end})
            work_id = work_id.scalar_one()
    except IntegrityError as refused:
        assert not kept, refused
        assert "period_in_range" in str(refused.orig)
        return

    statuses = _reads(client, work_id, writer)

    assert statuses == {**dict.fromkeys(statuses, 200), "DELETE": 204}
