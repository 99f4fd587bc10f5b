"""The works service: validation, history, optimistic locking and soft deletion."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest
from shapely import GeometryCollection, LineString, Point, Polygon, wkt
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from kip.actors import Actor
from kip.errors import NotFound, StaleVersion, ValidationError
from kip.geo import from_db
from kip.models import Role, Work, WorkChange, WorkChangeAction
from kip.services.organisations import add_organisation
from kip.services.works import (
    WorkData,
    create_work,
    delete_work,
    get_work,
    history,
    restore_work,
    update_work,
)

SRID = 28992
STREET = LineString([(174000, 450000), (174100, 450000)])
BOWTIE = Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])


def data_of(work: Work, **changes) -> WorkData:
    """The work's current fields as a planner would send them back, with ``changes``."""
    fields = {
        "title": work.title,
        "discipline": work.discipline_code,
        "phase": work.phase_code,
        "geometry": from_db(work.geom),
        "start_date": work.start_date,
        "end_date": work.end_date,
        "description": work.description,
        "precision": work.precision,
        "excavation": work.excavation,
        "traffic_impact": work.traffic_impact,
        "visibility": work.visibility,
        "external_ref": work.external_ref,
        "contact_name": work.contact_name,
        "contact_email": work.contact_email,
        "contact_phone": work.contact_phone,
        "budget": work.budget,
        "tags": list(work.tags),
    }
    assert set(fields) == {f.name for f in dataclasses.fields(WorkData)}
    fields.update(changes)
    return WorkData(**fields)


def count_works(session: Session) -> int:
    return session.execute(select(func.count()).select_from(Work)).scalar_one()


# -- create -------------------------------------------------------------------------------


def test_create_stores_the_work_and_records_its_creation(session: Session, make_org) -> None:
    org = make_org("Gemeente Ede, riolering")
    actor = Actor(label="user:7", organisation_id=org.id, role=Role.PLANNER)
    data = WorkData(
        title="  Vervangen riolering Stationsweg ",
        discipline="sewer",
        phase="planned",
        geometry=STREET,
        start_date=date(2027, 3, 1),
        end_date=date(2027, 6, 30),
        excavation=True,
        budget=Decimal("250000.00"),
        tags=["climate_adaptation"],
    )

    work = create_work(session, actor, org.id, data)
    session.expire_all()
    stored = session.get(Work, work.id)

    assert stored is not None
    assert stored.title == "Vervangen riolering Stationsweg"
    assert stored.version == 1
    assert stored.organisation.name == "Gemeente Ede, riolering"
    assert stored.geom.srid == SRID
    assert stored.budget == Decimal("250000.00")
    assert stored.tags == ["climate_adaptation"]
    [entry] = history(session, stored)
    assert entry.action == WorkChangeAction.CREATE
    assert entry.version == 1
    assert entry.actor == "user:7"
    assert entry.organisation_id == org.id
    assert entry.changed_at is not None
    assert entry.changes["title"] == [None, "Vervangen riolering Stationsweg"]
    assert entry.changes["start_date"] == [None, "2027-03-01"]
    assert entry.changes["budget"] == [None, "250000.00"]
    assert entry.changes["excavation"] == [None, True]
    assert wkt.loads(entry.changes["geom"][1]).equals(STREET)
    assert "external_ref" not in entry.changes  # empty values are left out


# -- update -------------------------------------------------------------------------------


def test_update_changes_only_what_changed_and_records_old_and_new(
    session: Session, make_work, actor: Actor
) -> None:
    work = make_work(title="Riolering Kerkstraat", phase="design", budget=Decimal("1000.50"))
    session.expire_all()
    work = get_work(session, work.id)

    updated = update_work(
        session,
        actor,
        work,
        data_of(work, phase="planned", end_date=date(2027, 7, 31)),
        expected_version=1,
    )

    assert updated.version == 2
    session.expire_all()
    stored = get_work(session, work.id)
    assert stored.phase_code == "planned"
    assert stored.end_date == date(2027, 7, 31)
    assert stored.title == "Riolering Kerkstraat"
    assert stored.budget == Decimal("1000.50")
    entries = history(session, stored)
    assert [e.action for e in entries] == [WorkChangeAction.CREATE, WorkChangeAction.UPDATE]
    assert entries[1].version == 2
    assert entries[1].actor == actor.label
    assert entries[1].changes == {
        "phase_code": ["design", "planned"],
        "end_date": ["2027-06-30", "2027-07-31"],
    }


def test_update_of_the_geometry_records_both_shapes(
    session: Session, make_work, actor: Actor
) -> None:
    work = make_work()
    moved = LineString([(174000, 450050), (174100, 450050)])

    update_work(session, actor, work, data_of(work, geometry=moved), expected_version=1)

    last = history(session, work)[-1]
    assert set(last.changes) == {"geom"}
    old, new = last.changes["geom"]
    assert wkt.loads(old).equals(STREET)
    assert wkt.loads(new).equals(moved)


def test_the_creation_shows_the_values_given_after_every_later_change(
    session: Session, make_org
) -> None:
    """A creation is stored without its values; the history works them out from the work
    as it is now, undoing each later change - and shows what was given, exactly."""
    org = make_org()
    coordinator = Actor(label="user:1", organisation_id=org.id, role=Role.COORDINATOR)
    editor = planner("2", org.id)
    work = create_work(
        session,
        editor,
        org.id,
        WorkData(
            title="Riolering Kerkstraat",
            discipline="sewer",
            phase="design",
            geometry=STREET,
            start_date=date(2027, 3, 1),
            end_date=date(2027, 6, 30),
            description="Eerste fase",
            excavation=True,
            external_ref="R-7",
            budget=Decimal("1000.50"),
            tags=["climate_adaptation"],
        ),
    )
    stored = session.execute(
        select(WorkChange.changes).where(WorkChange.work_id == work.id)
    ).scalar_one()
    assert stored == {}  # each value is kept once: on the work
    given = history(session, work)[0].changes
    assert given == {
        "title": [None, "Riolering Kerkstraat"],
        "discipline_code": [None, "sewer"],
        "phase_code": [None, "design"],
        "geom": [None, STREET.wkt],
        "start_date": [None, "2027-03-01"],
        "end_date": [None, "2027-06-30"],
        "description": [None, "Eerste fase"],
        "precision": [None, "day"],
        "excavation": [None, True],
        "traffic_impact": [None, "none"],
        "visibility": [None, "partners"],
        "external_ref": [None, "R-7"],
        "budget": [None, "1000.50"],
        "tags": [None, ["climate_adaptation"]],
    }

    moved = LineString([(174000, 450050), (174100, 450050)])
    update_work(
        session,
        editor,
        work,
        data_of(work, title="Riool Kerkstraat", geometry=moved, description="", tags=[]),
        expected_version=1,
    )
    update_work(
        session,
        editor,
        work,
        data_of(work, phase="planned", budget=None, end_date=date(2027, 8, 31)),
        expected_version=2,
    )
    delete_work(session, editor, work, expected_version=3)
    restore_work(session, coordinator, work)
    update_work(session, editor, work, data_of(work, title="Riool"), expected_version=5)
    session.expire_all()
    work = get_work(session, work.id)

    entries = history(session, work)
    assert [e.version for e in entries] == [1, 2, 3, 4, 5, 6]
    assert entries[0].action == WorkChangeAction.CREATE
    assert entries[0].actor == "user:2"
    assert entries[0].changes == given
    # plain JSON values, as the API sends them: no enum members, no dates
    assert {type(value) for _, value in given.values()} <= {str, bool, list}
    assert entries[1].changes["description"] == ["Eerste fase", ""]
    assert entries[5].changes == {"title": ["Riool Kerkstraat", "Riool"]}


def test_update_that_changes_nothing_writes_nothing(
    session: Session, make_work, actor: Actor
) -> None:
    work = make_work(budget=Decimal("99.90"), tags=["energy_transition"], external_ref="R-1")
    session.expire_all()  # compare with what the database holds, not what was sent
    work = get_work(session, work.id)
    updated_at = work.updated_at

    result = update_work(session, actor, work, data_of(work), expected_version=1)
    session.flush()
    session.expire_all()

    stored = get_work(session, work.id)
    assert result.version == 1
    assert stored.version == 1
    assert stored.updated_at == updated_at
    assert [e.action for e in history(session, stored)] == [WorkChangeAction.CREATE]


def test_update_with_a_stale_version_is_refused(session: Session, make_work, actor) -> None:
    work = make_work()
    update_work(session, actor, work, data_of(work, title="Eerste wijziging"), expected_version=1)

    with pytest.raises(StaleVersion) as caught:
        update_work(session, actor, work, data_of(work, title="Tweede"), expected_version=1)

    assert caught.value.status == 409
    assert caught.value.code == "stale-version"
    assert caught.value.details["current_version"] == 2
    session.expire_all()
    assert get_work(session, work.id).title == "Eerste wijziging"
    assert len(history(session, work)) == 2


def test_an_invalid_update_leaves_the_work_as_it_was(
    session: Session, make_work, actor: Actor
) -> None:
    work = make_work()

    with pytest.raises(ValidationError) as caught:
        update_work(session, actor, work, data_of(work, title=" "), expected_version=1)

    assert set(caught.value.details["errors"]) == {"title"}
    session.expire_all()
    stored = get_work(session, work.id)
    assert stored.title == "Vervangen riolering"
    assert stored.version == 1


# -- two editors at once ------------------------------------------------------------------


def planner(name: str, organisation_id: int) -> Actor:
    """A planner of the organisation (no account row needed: the label is what is kept)."""
    return Actor(label=f"user:{name}", organisation_id=organisation_id, role=Role.PLANNER)


@pytest.fixture
def committed_work(committed_engine: Engine) -> int:
    """A work that really exists (committed) in ``committed_engine``'s database."""
    with Session(committed_engine) as setup:
        org = add_organisation(setup, Actor.system("test"), "Gemeente Ede, wegen", "department")
        work = create_work(
            setup,
            planner("a", org.id),
            org.id,
            WorkData(
                title="Herinrichting Molenstraat",
                discipline="road",
                phase="design",
                geometry=STREET,
                start_date=date(2028, 1, 1),
                end_date=date(2028, 3, 31),
            ),
        )
        setup.commit()
        return work.id


def stored_state(engine: Engine, work_id: int) -> tuple[tuple, list[tuple[str, str]]]:
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT title, phase_code, version, deleted_at FROM works WHERE id = :id"),
            {"id": work_id},
        ).one()
        changes = conn.execute(
            text("SELECT action, actor FROM work_changes WHERE work_id = :id ORDER BY version"),
            {"id": work_id},
        ).all()
    return tuple(row), [tuple(c) for c in changes]


def test_two_editors_the_second_save_is_refused(
    committed_engine: Engine, committed_work: int
) -> None:
    with Session(committed_engine) as a, Session(committed_engine) as b:
        work_a = get_work(a, committed_work)
        work_b = get_work(b, committed_work)
        assert work_a.version == work_b.version == 1

        update_work(
            a, planner("a", work_a.organisation_id), work_a, data_of(work_a, phase="planned"), 1
        )
        a.commit()

        # B still holds version 1 and says so: only the database knows it moved on.
        with pytest.raises(StaleVersion, match="changed by somebody else") as caught:
            update_work(
                b,
                planner("b", work_b.organisation_id),
                work_b,
                data_of(work_b, title="Molenstraat"),
                1,
            )
        assert caught.value.status == 409
        b.rollback()

    row, changes = stored_state(committed_engine, committed_work)
    assert row == ("Herinrichting Molenstraat", "planned", 2, None)
    assert changes == [("create", "user:a"), ("update", "user:a")]


def test_a_delete_based_on_an_old_read_is_refused(
    committed_engine: Engine, committed_work: int
) -> None:
    with Session(committed_engine) as a, Session(committed_engine) as b:
        work_a = get_work(a, committed_work)
        work_b = get_work(b, committed_work)

        update_work(
            a, planner("a", work_a.organisation_id), work_a, data_of(work_a, title="Molenstraat"), 1
        )
        a.commit()

        with pytest.raises(StaleVersion):
            delete_work(b, planner("b", work_b.organisation_id), work_b, expected_version=1)
        b.rollback()

    row, changes = stored_state(committed_engine, committed_work)
    assert row == ("Molenstraat", "design", 2, None)
    assert changes == [("create", "user:a"), ("update", "user:a")]


# -- validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": "   "}, "title", "needs a title"),
        ({"title": "x" * 201}, "title", "at most 200"),
        ({"discipline": "hydrogen"}, "discipline", "unknown discipline 'hydrogen'"),
        ({"phase": "dreaming"}, "phase", "unknown phase 'dreaming'"),
        (
            {"start_date": date(2027, 6, 1), "end_date": date(2027, 5, 31)},
            "end_date",
            "before the start",
        ),
        ({"geometry": BOWTIE}, "geometry", "not valid"),
        ({"geometry": Point()}, "geometry", "empty"),
        ({"geometry": GeometryCollection([Point(0, 0)])}, "geometry", "cannot be stored"),
        ({"budget": Decimal("-1")}, "budget", "cannot be negative"),
    ],
)
def test_invalid_works_are_refused_per_field(
    session: Session, make_org, actor: Actor, changes: dict, field: str, message: str
) -> None:
    org = make_org()
    before = count_works(session)
    fields = {
        "title": "Vervangen gasleiding",
        "discipline": "gas",
        "phase": "planned",
        "geometry": STREET,
        "start_date": date(2027, 3, 1),
        "end_date": date(2027, 6, 30),
        **changes,
    }

    with pytest.raises(ValidationError) as caught:
        create_work(session, actor, org.id, WorkData(**fields))

    error = caught.value
    assert error.status == 422
    assert error.code == "invalid"
    assert set(error.details["errors"]) == {field}
    assert message in error.details["errors"][field]
    assert count_works(session) == before


def test_every_problem_is_reported_at_once(session: Session, make_org, actor: Actor) -> None:
    org = make_org()
    data = WorkData(
        title="",
        discipline="hydrogen",
        phase="planned",
        geometry=BOWTIE,
        start_date=date(2027, 6, 1),
        end_date=date(2027, 1, 1),
    )

    with pytest.raises(ValidationError) as caught:
        create_work(session, actor, org.id, data)

    assert set(caught.value.details["errors"]) == {"title", "discipline", "geometry", "end_date"}
    assert caught.value.problem()["errors"] == caught.value.details["errors"]
    assert caught.value.problem()["status"] == 422


def test_a_3d_geometry_is_stored_flat(session: Session, make_work) -> None:
    work = make_work(geometry=LineString([(174000, 450000, 5), (174100, 450000, 6)]))
    session.expire_all()

    dims = session.execute(
        text("SELECT ST_NDims(geom) FROM works WHERE id = :id"), {"id": work.id}
    ).scalar()
    assert dims == 2


# -- delete -------------------------------------------------------------------------------


def test_soft_delete_hides_the_work_but_keeps_it_and_its_history(
    session: Session, make_work, actor: Actor
) -> None:
    work = make_work()
    work_id = work.id

    delete_work(session, actor, work, expected_version=1)
    session.expire_all()

    with pytest.raises(NotFound) as caught:
        get_work(session, work_id)
    assert caught.value.status == 404
    kept = get_work(session, work_id, include_deleted=True)
    assert kept.deleted_at is not None
    assert kept.is_deleted
    assert kept.version == 2
    entries = history(session, kept)
    assert [e.action for e in entries] == [WorkChangeAction.CREATE, WorkChangeAction.DELETE]
    assert entries[-1].version == 2
    assert entries[-1].actor == actor.label
    rows = select(func.count()).select_from(WorkChange).where(WorkChange.work_id == work_id)
    assert session.execute(rows).scalar_one() == 2


def test_delete_with_a_stale_version_is_refused(session: Session, make_work, actor) -> None:
    work = make_work()
    update_work(session, actor, work, data_of(work, title="Gewijzigd"), expected_version=1)

    with pytest.raises(StaleVersion):
        delete_work(session, actor, work, expected_version=1)

    session.expire_all()
    assert get_work(session, work.id).deleted_at is None


def test_get_work_of_an_unknown_id_is_not_found(session: Session) -> None:
    with pytest.raises(NotFound, match="no work 999999999"):
        get_work(session, 999_999_999)
