"""`kip digbans change` and `kip digbans end` go through the dig-ban service: they refuse
what it refuses (a stale version, a day outside the ban, a day KIP does not keep, an area
that is no area, a ban that does not exist) with its words, in one line naming the option,
and write nothing; what it accepts they do, reading the ban's version when none is given.
`kip digbans proposals --create` accepts each proposal as a coordinator's click does.

Before, `end` called the engine directly: no version check, a later day lengthened the ban,
a bad date was a usage error, and a ban id past the database's range a traceback.
"""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from shapely import Point, box
from sqlalchemy import Connection, select
from test_cli import assert_clean_failure

from kip.actors import Actor
from kip.cli import main
from kip.errors import KipError
from kip.models import AuditEvent, DigBan
from kip.services import digbans

X, Y = 174000.0, 450000.0
FIRST, LAST = date(2027, 3, 1), date(2030, 2, 28)
SYSTEM = Actor.system("test")
TOO_BIG = 10**20  # past a bigint: the database cannot even look it up


@pytest.fixture
def kip(app: Flask, connection: Connection):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(main, [str(a) for a in args])


@pytest.fixture
def ban(session, make_org) -> DigBan:
    made = digbans.create_dig_ban(
        session,
        SYSTEM,
        digbans.DigBanData(
            organisation_id=make_org("Gemeente Ede").id,
            title="Nieuw asfalt Dorpsstraat",
            start_date=FIRST,
            end_date=LAST,
            area=box(X, Y, X + 100, Y + 20),
        ),
    )
    session.flush()
    return made


def _changed_once(session, ban: DigBan) -> DigBan:
    """The ban at version 2: what a command that read version 1 no longer knows."""
    digbans.update_dig_ban(session, SYSTEM, ban.id, 1, reason="Nieuwe deklaag")
    session.flush()
    return ban


def _unchanged(session, ban: DigBan, version: int = 1) -> None:
    session.refresh(ban)
    assert (ban.start_date, ban.end_date, ban.title, ban.version) == (
        FIRST,
        LAST,
        "Nieuw asfalt Dorpsstraat",
        version,
    )


def _in_words_of(refused: KipError, line: str) -> None:
    """The service's message, and each field's problem, are in the command's line."""
    assert refused.message in line, line
    for problem in (refused.details.get("errors") or {}).values():
        assert problem in line, line


END, CHANGE = ("end", digbans.end_dig_ban), ("change", digbans.update_dig_ban)
# The command and its use case, the arguments after BAN_ID, the same given to the use case,
# and the option the line names.
REFUSED = {
    "end after its last day": (END, ["--on", "2030-03-01"], {"on": date(2030, 3, 1)}, "--on"),
    "end on its last day": (END, ["--on", "2030-02-28"], {"on": LAST}, "--on"),
    "end before its first day": (END, ["--on", "2027-02-28"], {"on": date(2027, 2, 28)}, "--on"),
    "end on a day KIP does not keep": (
        END, ["--on", "9999-12-31"], {"on": date(9999, 12, 31)}, "--on"
    ),
    "end before it starts": (
        CHANGE, ["--to", "2027-01-01"], {"end_date": date(2027, 1, 1)}, "--to"
    ),
    "start on a day KIP does not keep": (
        CHANGE, ["--from", "1899-12-31"], {"start_date": date(1899, 12, 31)}, "--from"
    ),
    "a blank title": (CHANGE, ["--title", "  "], {"title": "  "}, "--title"),
    "an area that is a point": (
        CHANGE, ["--area", Point(X, Y).wkt], {"area": Point(X, Y)}, "--area"
    ),
}  # fmt: skip


@pytest.mark.parametrize(
    ("command", "args", "call", "option"), REFUSED.values(), ids=REFUSED.keys()
)
def test_change_and_end_refuse_what_the_service_refuses(
    kip, session, ban, command, args, call, option
):
    name, use_case = command
    with pytest.raises(KipError) as refused:
        use_case(session, SYSTEM, ban.id, ban.version, **call)

    result = kip("digbans", name, ban.id, *args)

    assert_clean_failure(result, f"{option}: ")
    _in_words_of(refused.value, result.output)
    _unchanged(session, ban)


STALE = {
    "end": (END, ["--on", "2028-06-30"], {"on": date(2028, 6, 30)}),
    "change": (CHANGE, ["--title", "X"], {"title": "X"}),
}


@pytest.mark.parametrize(("command", "args", "call"), STALE.values(), ids=STALE.keys())
def test_a_stale_version_is_refused(kip, session, ban, command, args, call):
    name, use_case = command
    _changed_once(session, ban)
    with pytest.raises(KipError) as refused:
        use_case(session, SYSTEM, ban.id, 1, **call)

    result = kip("digbans", name, ban.id, *args, "--expected-version", 1)

    assert_clean_failure(result, "--expected-version: ")
    _in_words_of(refused.value, result.output)
    assert "now version 2" in result.output
    _unchanged(session, ban, version=2)


@pytest.mark.parametrize("command", [["end", "--on", "2028-06-30"], ["change", "--title", "X"]])
def test_a_ban_that_does_not_exist_is_one_line(kip, session, command):
    with pytest.raises(KipError) as refused:
        digbans.get_dig_ban(session, SYSTEM, TOO_BIG)

    name, *args = command
    result = kip("digbans", name, TOO_BIG, *args)

    assert_clean_failure(result, refused.value.message)


@pytest.mark.parametrize(
    ("command", "option"),
    [
        (["end", "--on", "2028-02-30"], "--on"),
        (["end", "--on", "morgen"], "--on"),
        (["change", "--from", "2028-13-01"], "--from"),
        (["change", "--to", ""], "--to"),
    ],
)
def test_a_date_that_is_no_date_names_its_option(kip, session, ban, command, option):
    name, *args = command
    result = kip("digbans", name, ban.id, *args)

    assert_clean_failure(result, f"{option}: a date as YYYY-MM-DD, not {args[-1]!r}")
    _unchanged(session, ban)


def test_change_and_end_read_the_version_when_none_is_given(kip, session, ban):
    changed = kip("digbans", "change", ban.id, "--title", "Nieuw asfalt Kerkstraat")
    assert changed.exit_code == 0, changed.output
    assert "changed dig ban" in changed.output and "(version 2)" in changed.output

    ended = kip("digbans", "end", ban.id, "--on", "2028-06-30", "--expected-version", 2)
    assert ended.exit_code == 0, ended.output
    assert "now ends on 2028-06-30" in ended.output

    session.refresh(ban)
    assert (ban.title, ban.end_date, ban.version) == (
        "Nieuw asfalt Kerkstraat",
        date(2028, 6, 30),
        3,
    )
    actions = session.execute(
        select(AuditEvent.action)
        .where(AuditEvent.object_type == "dig_ban", AuditEvent.object_id == ban.id)
        .order_by(AuditEvent.id)
    ).scalars()
    assert list(actions) == ["dig_ban.create", "dig_ban.update", "dig_ban.end"]


def test_proposals_are_listed_then_created_through_the_service(kip, session, make_work, make_org):
    roads = make_org("Gemeente Ede – Wegen")
    road = make_work(
        roads,
        discipline="road",
        phase="completed",
        geometry=Point(X + 9000, Y).buffer(5),
        end_date=date(2027, 6, 30),
    )

    listed = kip("digbans", "proposals")
    assert listed.exit_code == 0, listed.output
    assert f"work {road.id}: 2027-07-01 to 2030-06-30" in listed.output

    created = kip("digbans", "proposals", "--create")
    assert created.exit_code == 0, created.output
    [ban] = session.execute(select(DigBan).where(DigBan.source_work_id == road.id)).scalars()
    assert f"created dig ban {ban.id} for work {road.id}: 2027-07-01 to 2030-06-30" in (
        created.output
    )
    assert ban.organisation_id == roads.id  # KIP itself imposes it in the work's name
    audited = select(AuditEvent.actor).where(
        AuditEvent.action == "dig_ban.create", AuditEvent.object_id == ban.id
    )
    assert session.execute(audited).scalar_one() == "system:cli"
    assert "no completed road works" in kip("digbans", "proposals").output


@pytest.mark.parametrize(
    ("args", "message"),
    [([], "nothing to change: give --title"), (["--srid", 4326], "--srid: ")],
)
def test_change_without_a_change_is_one_line(kip, session, ban, args, message):
    result = kip("digbans", "change", ban.id, *args)

    assert_clean_failure(result, message)
    _unchanged(session, ban)
