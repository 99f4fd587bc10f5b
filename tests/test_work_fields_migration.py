"""Migration 0010 brings works already past a field limit within it, on record.

A database at revision 0009 holds what an import once let through: a description of more
than 10,000 characters and more than 20 tags. After the upgrade the description holds its
first 10,000 characters and the tags the first 20, the work has a new version and a
history entry with the old and the new value (the full text is kept there), and an audit
event says why; a work within the limits is left alone; and the database refuses such
values from then on.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from kip import migrate, work_fields

SRID = 28992
LINE = "ST_GeomFromText('LINESTRING(174000 450000, 174100 450000)', 28992)"
LONG = "Riool. " * 2000  # 14,000 characters
TAGS = [f"thema {i}" for i in range(25)]


@pytest.fixture
def upgraded(database_at) -> tuple[Engine, dict[str, int]]:
    """Works planted at revision 0009, past the app, then upgraded to the head revision."""
    engine = database_at("0009")
    ids: dict[str, int] = {}
    with engine.begin() as conn:
        org = conn.execute(
            text(
                "INSERT INTO organisations (name, kind) VALUES ('Gemeente Ede', 'department')"
                " RETURNING id"
            )
        ).scalar_one()
        for name, description, tags in (
            ("long", LONG, []),
            ("tagged", "", TAGS),
            ("fine", "Kort", ["energie"]),
        ):
            ids[name] = conn.execute(
                text(
                    "INSERT INTO works (organisation_id, title, description, tags,"
                    " discipline_code, phase_code, geom, start_date, end_date) VALUES"
                    f" (:org, :title, :description, :tags, 'sewer', 'planned', {LINE},"
                    " '2027-03-01', '2027-06-30') RETURNING id"
                ),
                {"org": org, "title": f"Riool {name}", "description": description, "tags": tags},
            ).scalar_one()
            conn.execute(
                text(
                    "INSERT INTO work_changes (work_id, organisation_id, version, action, actor,"
                    " changes) VALUES (:id, :org, 1, 'create', 'system:import', '{}')"
                ),
                {"id": ids[name], "org": org},
            )
    migrate.upgrade(engine, SRID)
    return engine, ids


def test_values_past_a_limit_are_shortened_on_record(upgraded):
    engine, ids = upgraded
    with engine.connect() as conn:
        works = {
            row.id: row
            for row in conn.execute(text("SELECT id, description, tags, version FROM works"))
        }
        history = {
            work_id: changes
            for work_id, changes in conn.execute(
                text("SELECT work_id, changes FROM work_changes WHERE version = 2")
            )
        }
        events = conn.execute(
            text(
                "SELECT object_id, details FROM audit_events"
                " WHERE action = 'work.fields_shortened' ORDER BY object_id"
            )
        ).all()

    long, tagged, fine = works[ids["long"]], works[ids["tagged"]], works[ids["fine"]]
    assert long.description == LONG[: work_fields.DESCRIPTION_LENGTH] and long.version == 2
    assert tagged.tags == TAGS[: work_fields.TAG_COUNT] and tagged.version == 2
    assert (fine.description, fine.tags, fine.version) == ("Kort", ["energie"], 1)
    assert history[ids["long"]] == {"description": [LONG, long.description]}
    assert history[ids["tagged"]] == {"tags": [TAGS, tagged.tags]}
    assert ids["fine"] not in history
    assert [(object_id, details["fields"]) for object_id, details in events] == [
        (ids["long"], ["description"]),
        (ids["tagged"], ["tags"]),
    ]
    assert "the full value is in the history" in events[0][1]["reason"]


def test_after_the_upgrade_the_database_refuses_them(upgraded):
    engine, ids = upgraded
    for change, constraint in (
        ("description = repeat('x', 10001)", "ck_works_description_length"),
        ("tags = array_fill('t'::varchar, ARRAY[21])", "ck_works_tags_count"),
    ):
        with engine.connect() as conn, pytest.raises(IntegrityError) as refused:
            conn.execute(text(f"UPDATE works SET {change} WHERE id = :id"), {"id": ids["fine"]})
        assert constraint in str(refused.value)
