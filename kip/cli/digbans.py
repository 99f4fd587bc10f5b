"""`kip digbans ...`: dig bans for operators, through the same service and checks as the
pages and the API (:mod:`kip.services.digbans`), as KIP itself (``system:cli``).

A change or an end names the version it read (``--expected-version``); without it the
command reads the ban's current version first. Bad input is one line naming the option.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING

import click
from flask import current_app
from flask.cli import with_appcontext

from ..actors import Actor
from ..db import unit_of_work
from ..errors import Conflict, StaleVersion, ValidationError
from . import clean_errors, day_option, main, problem_line

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..engine.digbans import DigBanProposal
    from ..models import DigBan

# The fields of a dig ban, as `kip digbans create` and `change` take them.
BAN_OPTIONS = {
    "organisation": "--org",
    "title": "--title",
    "start_date": "--from",
    "end_date": "--to",
    "geometry": "--area",
}
CLI = Actor.system("cli")
EXPECTED_VERSION = click.option(
    "--expected-version",
    type=click.IntRange(min=1),
    help="The version you read (kip digbans list); another is refused. Default: the current.",
)


@main.group("digbans")
def digbans_group() -> None:
    """Dig bans: proposals from completed road works, creating, changing and ending them."""


@digbans_group.command("proposals")
@click.option("--create", is_flag=True, help="Create the proposed bans.")
@with_appcontext
@clean_errors
def digbans_proposals(create: bool) -> None:
    """List (or --create) the dig bans completed road works call for."""
    from ..services import digbans as bans

    with unit_of_work() as session:
        if create:
            made = bans.accept_all_proposals(session, CLI, current_app.config)
            lines = [
                f"created dig ban {b.id} for work {b.source_work_id}: {_summary(b)}" for b in made
            ]
        else:
            proposals = bans.pending_proposals(session, CLI, current_app.config)
            lines = [f"work {p.source_work_id}: {_summary(p)}" for p in proposals]
    for line in lines:
        click.echo(line)
    if not lines:
        click.echo("no completed road works without a dig ban")


@digbans_group.command("list")
@click.option("--all", "everything", is_flag=True, help="Also the bans that have ended.")
@with_appcontext
@clean_errors
def digbans_list(everything: bool) -> None:
    """List the dig bans (the current and coming ones unless --all)."""
    from ..services.digbans import list_dig_bans

    with unit_of_work() as session:
        bans = list_dig_bans(session, CLI, include_ended=everything)
        for ban in bans:
            source = f", after work {ban.source_work_id}" if ban.source_work_id else ""
            click.echo(
                f"{ban.id:>6}  {ban.start_date} to {ban.end_date}  {ban.title}"
                f" (organisation {ban.organisation_id}{source}, version {ban.version})"
            )
    if not bans:
        click.echo("no dig bans")


@digbans_group.command("create")
@click.option("--org", "organisation", required=True, type=int, help="Organisation id.")
@click.option("--title", required=True)
@click.option("--reason", default="")
@click.option("--from", "start", required=True, callback=day_option, help="First day (YYYY-MM-DD).")
@click.option("--to", "end", required=True, callback=day_option, help="Last day (YYYY-MM-DD).")
@click.option(
    "--area", required=True, help="The area as WKT (a polygon), in the project CRS unless --srid."
)
@click.option("--srid", type=int, help="The CRS of --area (EPSG code).")
@with_appcontext
@clean_errors
def digbans_create(
    organisation: int,
    title: str,
    reason: str,
    start: date,
    end: date,
    area: str,
    srid: int | None,
) -> None:
    """Create a dig ban over an area and a period; its violations are found at once."""
    from ..services.digbans import DigBanData, create_dig_ban

    data = DigBanData(
        organisation_id=organisation,
        title=title,
        reason=reason,
        area_wkt=area,
        area_srid=srid,
        start_date=start,
        end_date=end,
    )
    with _one_line(BAN_OPTIONS), unit_of_work() as session:
        ban = create_dig_ban(session, CLI, data)
        click.echo(f"created dig ban {ban.id}: {_summary(ban)}")


@digbans_group.command("change")
@click.argument("ban_id", type=int)
@click.option("--title")
@click.option("--reason")
@click.option("--from", "start", callback=day_option, help="First day (YYYY-MM-DD).")
@click.option("--to", "end", callback=day_option, help="Last day (YYYY-MM-DD).")
@click.option("--area", help="The area as WKT (a polygon), in the project CRS unless --srid.")
@click.option("--srid", type=int, help="The CRS of --area (EPSG code).")
@EXPECTED_VERSION
@with_appcontext
@clean_errors
def digbans_change(
    ban_id: int,
    title: str | None,
    reason: str | None,
    start: date | None,
    end: date | None,
    area: str | None,
    srid: int | None,
    expected_version: int | None,
) -> None:
    """Change dig ban BAN_ID (only what is given); its violations are found again."""
    from ..services import digbans as bans

    if srid is not None and area is None:
        raise click.ClickException("--srid: the CRS of --area, given without --area")
    if (title, reason, start, end, area) == (None,) * 5:
        raise click.ClickException(
            "nothing to change: give --title, --reason, --from, --to or --area"
        )
    with _one_line(BAN_OPTIONS), unit_of_work() as session:
        ban = bans.update_dig_ban(
            session,
            CLI,
            ban_id,
            _version(session, ban_id, expected_version),
            title=title,
            reason=reason,
            start_date=start,
            end_date=end,
            area=bans.area_from_wkt(area, srid) if area is not None else None,
        )
        click.echo(f"changed dig ban {ban.id} (version {ban.version}): {_summary(ban)}")


@digbans_group.command("end")
@click.argument("ban_id", type=int)
@click.option(
    "--on", "on", required=True, callback=day_option, help="The ban's last day (YYYY-MM-DD)."
)
@EXPECTED_VERSION
@with_appcontext
@clean_errors
def digbans_end(ban_id: int, on: date, expected_version: int | None) -> None:
    """End dig ban BAN_ID on a day before its last; its later violations are resolved."""
    from ..services import digbans as bans

    with _one_line({"end_date": "--on"}, conflict="--on"), unit_of_work() as session:
        version = _version(session, ban_id, expected_version)
        ban = bans.end_dig_ban(session, CLI, ban_id, version, on=on)
        click.echo(f"dig ban {ban.id} now ends on {ban.end_date.isoformat()}")


@contextmanager
def _one_line(options: dict[str, str], conflict: str | None = None) -> Iterator[None]:
    """The service's refusals as one line naming the option that gave the value: a field's
    (``options``), a stale version's, and a conflict's (the ``conflict`` option)."""
    try:
        yield
    except StaleVersion as error:
        raise click.ClickException(f"--expected-version: {error.message}") from None
    except Conflict as error:
        if conflict is None:
            raise
        raise click.ClickException(f"{conflict}: {error.message}") from None
    except ValidationError as error:
        raise click.ClickException(problem_line(error, options)) from None


def _version(session: Session, ban_id: int, expected: int | None) -> int:
    """The version the operator read (``--expected-version``), else the ban's current one."""
    from ..services.digbans import get_dig_ban

    return expected or get_dig_ban(session, CLI, ban_id).version


def _summary(ban: DigBan | DigBanProposal) -> str:
    """A ban's or a proposal's period and title, as the commands print them."""
    return f"{ban.start_date} to {ban.end_date}, {ban.title}"
