"""The overlap engine on the real PostGIS: rules, pairs, identity, resolution, violations."""

from __future__ import annotations

from datetime import date

import pytest
from shapely import LineString, Point, box
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from kip import engine
from kip.db import bound_srid
from kip.models import Clash, ClashEvent, ClashRule, ClashStatus, DigBan
from kip.services.works import WorkData, delete_work, update_work

X, Y = 174000.0, 450000.0


def line(x0: float, length: float = 100.0, dy: float = 0.0) -> LineString:
    return LineString([(X + x0, Y + dy), (X + x0 + length, Y + dy)])


def clashes(session: Session, rule_code: str | None = None) -> list[Clash]:
    query = select(Clash).order_by(Clash.id)
    if rule_code:
        query = query.join(ClashRule, ClashRule.id == Clash.rule_id).where(
            ClashRule.code == rule_code
        )
    return list(session.execute(query).scalars())


def data_of(work, **changes) -> WorkData:
    from kip import geo

    fields = {
        "title": work.title,
        "discipline": work.discipline_code,
        "phase": work.phase_code,
        "geometry": geo.from_db(work.geom),
        "start_date": work.start_date,
        "end_date": work.end_date,
        "excavation": work.excavation,
        "traffic_impact": work.traffic_impact,
    }
    fields.update(changes)
    return WorkData(**fields)


def test_default_rules_are_seeded(session: Session) -> None:
    rules = {r.code: r for r in engine.load_rules(session)}
    assert set(rules) == {"simultaneous", "dig_once", "dig_ban"}
    assert (rules["simultaneous"].max_distance_m, rules["simultaneous"].max_gap_days) == (50, 0)
    assert (rules["dig_once"].max_distance_m, rules["dig_once"].max_gap_days) == (25, 730)
    assert rules["dig_ban"].kind == "violation"
    assert "completed" not in rules["simultaneous"].phases


def test_saving_a_work_finds_its_conflict_in_the_same_transaction(make_work, session) -> None:
    a = make_work(geometry=line(0))
    b = make_work(geometry=line(0, dy=30), start_date=date(2027, 6, 30), end_date=date(2027, 8, 1))

    [clash] = clashes(session, "simultaneous")
    assert (clash.work_a_id, clash.work_b_id) == (a.id, b.id)
    assert clash.kind == "conflict"
    assert clash.distance_m == pytest.approx(30.0)
    assert (clash.overlap_days, clash.gap_days) == (1, 0)
    assert clash.shared_length_m == pytest.approx(100.0)
    assert clash.geom is not None
    assert clash.status is ClashStatus.OPEN
    assert 0 < clash.score <= 100


def test_the_distance_limit_counts_and_one_millimetre_more_does_not(make_work, session) -> None:
    make_work(geometry=Point(X, Y))
    make_work(geometry=Point(X + 50.0, Y))
    make_work(geometry=Point(X + 100.001, Y))

    found = clashes(session, "simultaneous")
    assert [c.distance_m for c in found] == [50.0]


def test_cancelled_completed_and_deleted_works_take_no_part(make_work, session, actor) -> None:
    make_work(geometry=line(0))
    make_work(geometry=line(0, dy=5), phase="cancelled")
    make_work(geometry=line(0, dy=6), phase="completed")
    gone = make_work(geometry=line(0, dy=7))
    assert len(clashes(session, "simultaneous")) == 1

    delete_work(session, actor, gone, gone.version)

    [clash] = clashes(session, "simultaneous")
    assert clash.status is ClashStatus.RESOLVED
    assert clash.resolved_at is not None


def test_dig_once_needs_both_to_dig_or_one_to_dig_and_the_other_to_repave(
    make_work, session
) -> None:
    sewer = make_work(geometry=line(0), excavation=True)
    make_work(geometry=line(0, dy=10), discipline="lighting", excavation=False)
    road = make_work(
        geometry=line(0, dy=20),
        discipline="road",
        start_date=date(2029, 1, 1),
        end_date=date(2029, 3, 1),
    )

    [chance] = clashes(session, "dig_once")
    assert (chance.work_a_id, chance.work_b_id) == (sewer.id, road.id)
    assert chance.kind == "opportunity"
    assert chance.gap_days == (date(2029, 1, 1) - date(2027, 6, 30)).days


def test_a_pair_keeps_its_record_and_review_across_recomputes(make_work, session) -> None:
    make_work(geometry=line(0))
    make_work(geometry=line(0, dy=10))
    [before] = clashes(session, "simultaneous")
    session.execute(update(Clash).where(Clash.id == before.id).values(status="accepted"))

    outcome = engine.recompute_all(session)

    [after] = clashes(session, "simultaneous")
    assert after.id == before.id
    assert after.status is ClashStatus.ACCEPTED
    assert (outcome.new, outcome.changed, outcome.resolved) == (0, 0, 0)


def test_a_clash_that_goes_away_is_resolved_and_comes_back_open(make_work, session, actor) -> None:
    a = make_work(geometry=line(0))
    make_work(geometry=line(0, dy=10))
    [clash] = clashes(session, "simultaneous")
    clash_id = clash.id

    a = update_work(
        session,
        actor,
        a,
        data_of(a, start_date=date(2028, 1, 1), end_date=date(2028, 2, 1)),
        a.version,
    )
    assert session.get(Clash, clash_id).status is ClashStatus.RESOLVED

    update_work(
        session,
        actor,
        a,
        data_of(a, start_date=date(2027, 4, 1), end_date=date(2027, 4, 30)),
        a.version,
    )
    back = session.get(Clash, clash_id)
    assert back.status is ClashStatus.OPEN
    assert back.resolved_at is None
    assert back.overlap_days == 30
    events = session.execute(
        select(ClashEvent.action, ClashEvent.status_from, ClashEvent.status_to, ClashEvent.actor)
        .where(ClashEvent.clash_id == clash_id)
        .order_by(ClashEvent.id)
    ).all()
    assert [tuple(e) for e in events] == [
        ("resolved", "open", "resolved", actor.label),
        ("reopened", "resolved", "open", actor.label),
    ]


def test_changed_rule_distance_takes_effect_without_code(make_work, session) -> None:
    make_work(geometry=line(0))
    make_work(geometry=line(0, dy=40))
    assert len(clashes(session, "simultaneous")) == 1

    session.execute(
        update(ClashRule).where(ClashRule.code == "simultaneous").values(max_distance_m=30)
    )
    engine.recompute_all(session)

    assert [c.status for c in clashes(session, "simultaneous")] == [ClashStatus.RESOLVED]


def test_a_save_right_after_a_rule_change_uses_the_new_rule_and_nothing_of_the_old(
    make_work, session
) -> None:
    """A save first tries the rules it read last, guarded by their stamp in the same
    statement: changed rules mean that statement writes nothing, and the save is done
    again with the rules as they are now."""
    a = make_work(geometry=line(0))
    b = make_work(geometry=line(0, dy=40))  # 40 m apart: a conflict under 50 m
    assert len(clashes(session, "simultaneous")) == 1
    session.execute(text("DELETE FROM clash_events"))
    session.execute(text("DELETE FROM clashes"))

    session.execute(
        update(ClashRule).where(ClashRule.code == "simultaneous").values(max_distance_m=30)
    )
    outcome = engine.recompute_works(session, [a.id, b.id])

    # Under the old rule the pair would have been written (and then resolved): no trace.
    assert outcome.found == 0
    assert clashes(session) == []
    assert session.execute(text("SELECT count(*) FROM clash_events")).scalar_one() == 0


def test_the_rules_are_read_again_whenever_a_rule_or_phase_changes(session) -> None:
    """The engine keeps the rules between saves; any change to a rule or a phase, even
    one made in this very transaction, is seen by the next save."""
    before = {r.code: r for r in engine.load_rules(session)}
    assert engine.load_rules(session) == list(before.values())  # kept: same answer

    session.execute(
        update(ClashRule).where(ClashRule.code == "simultaneous").values(max_distance_m=31)
    )
    after = {r.code: r for r in engine.load_rules(session)}
    assert after["simultaneous"].max_distance_m == 31
    assert before["simultaneous"].max_distance_m != 31

    session.execute(update(ClashRule).where(ClashRule.code == "dig_once").values(active=False))
    assert "dig_once" not in {r.code for r in engine.load_rules(session)}

    session.execute(text("UPDATE phases SET takes_part = false WHERE code = 'initiative'"))
    assert all("initiative" not in r.phases for r in engine.load_rules(session))
    assert "initiative" in before["simultaneous"].phases


def test_a_rule_filtered_by_discipline_only_pairs_those(make_work, session) -> None:
    session.add(
        ClashRule(
            code="gas_electricity",
            name="Gas and electricity",
            kind="conflict",
            max_distance_m=5,
            max_gap_days=0,
            disciplines=["gas", "electricity"],
            traffic_impacts=["closure"],
        )
    )
    session.flush()
    gas = make_work(geometry=line(0), discipline="gas", traffic_impact="closure")
    elec = make_work(geometry=line(0, dy=3), discipline="electricity")
    make_work(geometry=line(0, dy=4), discipline="sewer", traffic_impact="closure")

    found = clashes(session, "gas_electricity")
    assert [(c.work_a_id, c.work_b_id) for c in found] == [(gas.id, elec.id)]


def test_works_of_one_organisation_clash_too(make_org, make_work, session) -> None:
    org = make_org()
    make_work(org, geometry=line(0), excavation=True)
    make_work(org, geometry=line(0, dy=2), discipline="road")
    assert {c.kind for c in clashes(session)} == {"conflict", "opportunity"}


def _ban(session: Session, org_id: int, geom, start: date, end: date) -> DigBan:
    from kip import geo

    ban = DigBan(
        organisation_id=org_id,
        title="Nieuw asfalt",
        geom=geo.to_db(geom, bound_srid()),
        start_date=start,
        end_date=end,
    )
    session.add(ban)
    session.flush()
    return ban


def test_digging_inside_an_active_dig_ban_is_a_violation(make_org, make_work, session) -> None:
    org = make_org()
    ban = _ban(session, org.id, box(X, Y - 5, X + 50, Y + 5), date(2027, 1, 1), date(2029, 12, 31))
    engine.recompute_dig_bans(session, [ban.id])
    assert clashes(session, "dig_ban") == []

    digger = make_work(geometry=line(-20), excavation=True)
    make_work(geometry=line(-20, dy=1), excavation=False)
    make_work(
        geometry=line(-20, dy=2),
        excavation=True,
        start_date=date(2030, 1, 1),
        end_date=date(2030, 2, 1),
    )

    [violation] = clashes(session, "dig_ban")
    assert (violation.work_a_id, violation.dig_ban_id, violation.work_b_id) == (
        digger.id,
        ban.id,
        None,
    )
    assert violation.kind == "violation"
    assert violation.distance_m == 0

    session.execute(
        text("UPDATE dig_bans SET end_date = '2027-02-28' WHERE id = :i"), {"i": ban.id}
    )
    outcome = engine.recompute_dig_bans(session, [ban.id])
    assert outcome.resolved == 1


def test_checking_a_draft_saves_nothing_and_matches_what_saving_finds(make_work, session) -> None:
    make_work(geometry=line(0), excavation=True)
    before = session.execute(text("SELECT count(*) FROM clashes")).scalar()
    draft = engine.Draft(
        geometry=line(10, dy=8),
        start_date=date(2027, 5, 1),
        end_date=date(2027, 5, 31),
        discipline="water",
        phase="design",
        excavation=True,
        traffic_impact="lane",
    )

    found = engine.check_draft(session, draft)

    assert session.execute(text("SELECT count(*) FROM clashes")).scalar() == before
    assert sorted(f.kind for f in found) == ["conflict", "opportunity"]
    saved = make_work(
        geometry=line(10, dy=8),
        start_date=date(2027, 5, 1),
        end_date=date(2027, 5, 31),
        discipline="water",
        phase="design",
        excavation=True,
        traffic_impact="lane",
    )
    stored = {c.kind: c for c in clashes(session) if saved.id in (c.work_a_id, c.work_b_id)}
    for f in found:
        assert stored[f.kind].distance_m == f.distance_m
        assert stored[f.kind].overlap_days == f.overlap_days
        assert stored[f.kind].shared_length_m == f.shared_length_m


def test_many_pairs_written_in_parts_resolve_and_come_back_as_in_one_statement(
    make_work, session
) -> None:
    # Store every pair the way a large recompute does: in parts (of two), the next part
    # measured while one is written, the pairs found a work at a time; resolving and
    # reopening as for a single save.
    from unittest.mock import patch

    from kip.engine import inmemory
    from kip.engine import store as engine_store

    a = make_work(geometry=line(0))
    for dy in (10, 20, 30):
        make_work(geometry=line(0, dy=dy))
    stored = {(c.rule_id, c.work_a_id, c.work_b_id): c.id for c in clashes(session)}
    session.execute(text("DELETE FROM clashes"))

    with (
        patch.object(engine, "PARAMETERS_MAX", 0),
        patch.object(engine_store, "PART", 2),
        patch.object(inmemory, "CHUNK", 1),
    ):
        first = engine.recompute_all(session, in_memory=True)
        assert (first.found, first.new, first.changed) == (len(stored), len(stored), 0)
        mine = [c for c in clashes(session) if a.id in (c.work_a_id, c.work_b_id)]
        session.execute(
            text(
                "UPDATE works SET start_date = '2031-01-01', end_date = '2031-01-31' WHERE id = :id"
            ),
            {"id": a.id},
        )
        gone = engine.recompute_all(session, in_memory=True)
        assert (gone.resolved, gone.new, gone.changed) == (len(mine), 0, 0)
        session.execute(
            text(
                "UPDATE works SET start_date = '2027-04-01', end_date = '2027-04-30' WHERE id = :id"
            ),
            {"id": a.id},
        )
        back = engine.recompute_all(session)
        assert (back.reopened, back.new, back.resolved) == (len(mine), 0, 0)

    session.expire_all()
    for clash in mine:
        again = session.get(Clash, clash.id)
        assert again.status is ClashStatus.OPEN and again.overlap_days == 30
        events = session.execute(
            select(ClashEvent.action).where(ClashEvent.clash_id == clash.id).order_by(ClashEvent.id)
        ).scalars()
        assert list(events) == ["resolved", "reopened"]
