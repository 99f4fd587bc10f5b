"""The clash services and commands: list with filters, review lifecycle, combinations, the
draft check, dig-ban proposals, `kip clashes ...`."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from flask import Flask
from shapely import LineString, Point
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from kip.actors import Actor
from kip.cli import main
from kip.engine import digbans
from kip.errors import Conflict, Forbidden, ValidationError
from kip.models import Clash, ClashStatus, DigBan, Role
from kip.services import clashes as svc
from kip.services import digbans as bans
from kip.services.works import WorkData, update_work

X, Y = 174000.0, 450000.0
SYSTEM = Actor.system("test")


def line(x0: float, length: float = 100.0, dy: float = 0.0) -> LineString:
    return LineString([(X + x0, Y + dy), (X + x0 + length, Y + dy)])


@pytest.fixture
def street(make_org, make_work):
    """A sewer renewal and a road reconstruction in one street, and a cable laid beside."""
    city, grid = make_org("Gemeente"), make_org("Netbeheerder", kind="grid_operator")
    sewer = make_work(city, geometry=line(0), excavation=True, traffic_impact="closure")
    road = make_work(
        city,
        title="Herinrichting",
        discipline="road",
        geometry=line(0, dy=4),
        start_date=date(2027, 9, 1),
        end_date=date(2027, 10, 31),
        traffic_impact="closure",
    )
    cable = make_work(
        grid,
        title="Kabel",
        discipline="electricity",
        geometry=line(20, 60, dy=2),
        start_date=date(2027, 5, 1),
        end_date=date(2027, 5, 31),
        excavation=True,
        traffic_impact="lane",
    )
    far = make_work(grid, geometry=Point(X + 5000, Y), discipline="gas", excavation=True)
    return {"city": city, "grid": grid, "sewer": sewer, "road": road, "cable": cable, "far": far}


def test_list_is_sorted_by_score_and_filters(session: Session, street) -> None:
    everything = svc.list_clashes(session, SYSTEM)
    scores = [v.clash.score for v in everything.items]
    assert scores == sorted(scores, reverse=True)
    assert (
        everything.total == 4
    )  # sewer×cable conflict; sewer×road, sewer×cable, road×cable chances

    conflicts = svc.list_clashes(session, SYSTEM, svc.ClashFilters(kind="conflict"))
    assert [(v.work_a.id, v.work_b.id) for v in conflicts.items] == [
        (street["sewer"].id, street["cable"].id)
    ]
    road = svc.list_clashes(session, SYSTEM, svc.ClashFilters(discipline="road"))
    assert road.total == 2
    grid = svc.list_clashes(session, SYSTEM, svc.ClashFilters(organisation_id=street["grid"].id))
    assert grid.total == 3  # the cable's three
    june = svc.list_clashes(
        session, SYSTEM, svc.ClashFilters(period=(date(2027, 6, 1), date(2027, 6, 30)))
    )
    assert june.total == 3  # only the sewer runs in June: its three clashes
    nowhere = svc.list_clashes(session, SYSTEM, svc.ClashFilters(bbox=(0, 0, 10, 10)))
    assert nowhere.total == 0
    here = svc.list_clashes(
        session, SYSTEM, svc.ClashFilters(bbox=(X - 10, Y - 10, X + 200, Y + 10))
    )
    assert here.total == 4
    paged = svc.list_clashes(session, SYSTEM, limit=3, offset=3)
    assert len(paged.items) == 1 and paged.total == 4

    with pytest.raises(ValidationError):
        svc.list_clashes(session, SYSTEM, svc.ClashFilters(kind="catastrophe"))


def test_a_clash_explains_itself(session: Session, street) -> None:
    [view] = svc.list_clashes(session, SYSTEM, svc.ClashFilters(kind="conflict")).items
    assert view.explanation["facts"].startswith("Simultaneous works (conflict): 2 m apart")
    assert "31 days at the same time" in view.explanation["facts"]
    # The sewer clears it by starting after the cable's end or keeping 50 m away.
    assert "starts after 2027-05-31" in view.explanation["clears_if"]
    assert "more than 50 m away" in view.explanation["clears_if"]


def test_review_lifecycle_with_history(session: Session, actor, street) -> None:
    [view] = svc.list_clashes(session, SYSTEM, svc.ClashFilters(kind="conflict")).items
    clash_id = view.clash.id
    svc.review_clash(session, actor, clash_id, "accepted", "  short overlap, agreed  ")

    clash = svc.get_clash(session, SYSTEM, clash_id).clash
    assert clash.status is ClashStatus.ACCEPTED
    assert (clash.review_note, clash.reviewed_by) == ("short overlap, agreed", actor.label)
    assert clash.reviewed_at is not None

    cable = street["cable"]
    moved = WorkData(
        title=cable.title,
        discipline=cable.discipline_code,
        phase=cable.phase_code,
        geometry=line(20, 60, dy=2),
        start_date=date(2027, 8, 1),
        end_date=date(2027, 8, 31),
        excavation=True,
    )
    update_work(session, actor, cable, moved, cable.version)
    assert svc.get_clash(session, SYSTEM, clash_id).clash.status is ClashStatus.RESOLVED
    with pytest.raises(Conflict):
        svc.review_clash(session, actor, clash_id, "dismissed")

    history = svc.clash_history(session, SYSTEM, clash_id)
    assert [(e.action, e.status_from, e.status_to) for e in history] == [
        ("reviewed", "open", "accepted"),
        ("resolved", "accepted", "resolved"),
    ]
    assert history[0].note == "short overlap, agreed"


def test_only_a_coordinator_reviews_and_only_to_a_review_status(session, street) -> None:
    clash_id = svc.list_clashes(session, SYSTEM).items[0].clash.id
    planner = Actor.for_user(1, street["grid"].id, Role.PLANNER)
    with pytest.raises(Forbidden):
        svc.review_clash(session, planner, clash_id, "dismissed")
    with pytest.raises(ValidationError):
        svc.review_clash(session, Actor.system("t"), clash_id, "resolved")


def test_combinations_group_the_opportunities(session: Session, street) -> None:
    settings = {
        "COMBINATION_TRENCH_EUR_PER_M": 100.0,
        "COMBINATION_REPAVE_WIDTH_M": 2.0,
        "COMBINATION_REPAVE_EUR_PER_M2": 10.0,
    }
    [view] = svc.list_combinations(session, SYSTEM, settings)
    group = view.combination
    sewer, road, cable = street["sewer"], street["road"], street["cable"]
    assert group.work_ids == sorted([sewer.id, road.id, cable.id])
    assert group.organisation_ids == sorted([street["city"].id, street["grid"].id])
    assert len(group.clash_ids) == 3
    assert group.window is None
    assert "ends on 2027-05-31" in group.no_window_reason
    assert group.shared_length_m == 100.0
    # Two diggers: one trench of 100 m saved; repaving saved after each dig (2 × 100 m × 2 m).
    assert group.trench_m_saved == 100.0
    assert group.repaving_m2_saved == 400.0
    assert group.estimated_saving_eur == 100 * 100.0 + 400 * 10.0
    # Three closures/lane closures (122 + 61 + 31 days) done at once: the longest remains.
    assert group.closure_days_spared == 61 + 31

    dismissed = session.execute(select(Clash).where(Clash.kind == "opportunity")).scalars()
    for c in dismissed:
        if road.id in (c.work_a_id, c.work_b_id):
            c.status = ClashStatus.DISMISSED
    session.flush()
    [pair_view] = svc.list_combinations(session, SYSTEM)
    pair = pair_view.combination
    assert pair.work_ids == sorted([sewer.id, cable.id])
    assert pair.window == (date(2027, 5, 1), date(2027, 5, 31))


def test_check_work_explains_without_saving(session: Session, street) -> None:
    before = session.execute(select(Clash.id)).all()
    data = WorkData(
        title="Glasvezel",
        discipline="telecom",
        phase="design",
        geometry=line(0, 50, dy=8),
        start_date=date(2027, 4, 1),
        end_date=date(2027, 4, 10),
        excavation=True,
    )
    found = svc.check_work(session, SYSTEM, data)
    assert session.execute(select(Clash.id)).all() == before
    kinds = sorted((d.found.kind, d.other.id) for d in found)
    assert kinds == sorted(
        [
            ("conflict", street["sewer"].id),
            ("opportunity", street["sewer"].id),
            ("opportunity", street["road"].id),
            ("opportunity", street["cable"].id),
        ]
    )
    assert all(d.explanation["facts"] and d.explanation["clears_if"] for d in found)
    with pytest.raises(ValidationError):
        svc.check_work(session, SYSTEM, WorkData(**{**data.__dict__, "discipline": "nonsense"}))


def test_a_completed_road_work_proposes_a_dig_ban(session: Session, actor, street) -> None:
    road = street["road"]
    assert digbans.pending_proposals(session) == []
    done = WorkData(
        title=road.title,
        discipline="road",
        phase="completed",
        geometry=line(0, dy=4),
        start_date=road.start_date,
        end_date=road.end_date,
        traffic_impact="closure",
    )
    update_work(session, actor, road, done, road.version)

    settings = {"DIG_BAN_YEARS": 2, "DIG_BAN_BUFFER_M": 5.0}
    [proposal] = digbans.pending_proposals(session, settings)
    assert proposal.source_work_id == road.id
    assert (proposal.start_date, proposal.end_date) == (date(2027, 11, 1), date(2029, 10, 31))
    assert proposal.geometry.contains(Point(X + 50, Y + 8))

    ban = bans.accept_proposal(session, actor, proposal.source_work_id, settings)
    assert digbans.pending_proposals(session) == []
    assert session.get(DigBan, ban.id).source_work_id == road.id
    # The far gas work digs inside it in 2028: a violation appears at once.
    far = street["far"]
    update_work(
        session,
        actor,
        far,
        WorkData(
            title=far.title,
            discipline="gas",
            phase="planned",
            geometry=Point(X + 50, Y + 6),
            start_date=date(2028, 3, 1),
            end_date=date(2028, 3, 31),
            excavation=True,
        ),
        far.version,
    )
    [violation] = svc.list_clashes(session, SYSTEM, svc.ClashFilters(kind="violation")).items
    assert (violation.work_a.id, violation.dig_ban.id) == (far.id, ban.id)

    bans.end_dig_ban(session, actor, ban.id, ban.version, on=date(2028, 1, 31))
    assert svc.get_clash(session, SYSTEM, violation.clash.id).clash.status is ClashStatus.RESOLVED


@pytest.fixture
def kip(app: Flask, connection: Connection):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(main, list(args))


def test_cli_recompute_and_list_in_three_formats(kip, street) -> None:
    result = kip("clashes", "recompute")
    assert result.exit_code == 0, result.output
    assert "4 clashes found: 0 new" in result.output

    table = kip("clashes", "list")
    assert table.exit_code == 0 and "conflict" in table.output and "4 of 4" in table.output

    as_json = json.loads(kip("clashes", "list", "--format", "json", "--kind", "opportunity").output)
    assert as_json["total"] == 3
    assert {c["rule"] for c in as_json["clashes"]} == {"dig_once"}

    rows = list(csv.DictReader(io.StringIO(kip("clashes", "list", "--format", "csv").output)))
    assert len(rows) == 4 and rows[0]["clears_if"].startswith("Cleared if")

    bad = kip("clashes", "list", "--bbox", "1,2,3")
    assert bad.exit_code != 0


def test_cli_sql_and_in_memory_recompute_agree(kip, street) -> None:
    assert "4 clashes found" in kip("clashes", "recompute", "--sql").output
    assert "4 clashes found: 0 new, 0 changed" in kip("clashes", "recompute", "--in-memory").output


def test_cli_creates_and_lists_dig_bans(kip, street) -> None:
    area = f"POLYGON(({X - 5} {Y - 5}, {X + 50} {Y - 5}, {X + 50} {Y + 5}, {X - 5} {Y - 5}))"
    created = kip(
        "digbans", "create", "--org", str(street["city"].id), "--title", "Nieuw asfalt",
        "--from", "2027-01-01", "--to", "2029-12-31", "--area", area,
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    assert "created dig ban" in created.output
    listed = kip("digbans", "list", "--all")
    assert listed.exit_code == 0 and "Nieuw asfalt" in listed.output
    bad = kip(
        "digbans", "create", "--org", str(street["city"].id), "--title", "x",
        "--from", "2027-01-01", "--to", "2029-12-31", "--area", "not wkt",
    )  # fmt: skip
    assert bad.exit_code == 1 and "WKT" in bad.output
