"""Every way a work changes reaches the engine: the bulk import (set-based) and a restore."""

from __future__ import annotations

import json

from sqlalchemy import select

from kip.actors import Actor
from kip.models import Clash, ClashStatus, Work
from kip.services.imports import ImportSettings, import_file
from kip.services.works import delete_work, restore_work

SYSTEM = Actor.system("test")
SETTINGS = ImportSettings((3.2, 50.7, 7.3, 53.6), 10_000_000)


def plan(*features: tuple[str, str, list]) -> bytes:
    return json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": {"type": "LineString", "coordinates": coords},
                    "properties": {
                        "kenmerk": ref,
                        "titel": ref,
                        "vakdiscipline": discipline,
                        "fase": "gepland",
                        "startdatum": "2027-03-01",
                        "einddatum": "2027-04-30",
                        "graaf": "ja",
                    },
                }
                for ref, discipline, coords in features
            ],
        }
    ).encode()


def clashes_of(session, work_ids) -> list[Clash]:
    return list(
        session.execute(
            select(Clash).where(Clash.work_a_id.in_(work_ids) | Clash.work_b_id.in_(work_ids))
        ).scalars()
    )


def test_an_import_finds_the_clashes_of_what_it_wrote(session, make_org):
    org = make_org("Gemeente Ede – Riolering")
    street = [[5.66, 52.04], [5.6615, 52.0405]]
    beside = [[5.66, 52.04005], [5.6615, 52.04055]]  # about 5 m away, same weeks
    report = import_file(
        session,
        SYSTEM,
        org.id,
        plan(("R-1", "riolering", street), ("R-2", "drinkwater", beside)),
        settings=SETTINGS,
        filename="plan.geojson",
    )
    ids = report.changed_work_ids
    assert len(ids) == 2
    found = clashes_of(session, ids)
    assert found, "two digging works 5 m apart in the same weeks must clash"
    assert {c.status for c in found} == {ClashStatus.OPEN}
    assert all({c.work_a_id, c.work_b_id} == set(ids) for c in found)


def test_restoring_a_work_brings_its_clashes_back(session, make_org, make_work):
    org = make_org()
    a = make_work(organisation=org, excavation=True)
    b = make_work(organisation=org, excavation=True, title="Kabel")
    assert clashes_of(session, [a.id])
    delete_work(session, SYSTEM, b, b.version)
    assert all(c.status == ClashStatus.RESOLVED for c in clashes_of(session, [a.id]))
    restore_work(session, SYSTEM, session.get(Work, b.id))
    assert any(c.status == ClashStatus.OPEN for c in clashes_of(session, [a.id]))
