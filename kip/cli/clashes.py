"""`kip clashes ...` and `kip digbans ...`: the overlap engine for operators."""

from __future__ import annotations

import json
import time
from datetime import date

import click
from flask import current_app
from flask.cli import with_appcontext

from ..actors import Actor
from ..db import unit_of_work
from ..errors import ValidationError
from . import clean_errors, main, problem_line

COLUMNS = [
    "id",
    "kind",
    "rule",
    "status",
    "score",
    "work_a_id",
    "work_b_id",
    "dig_ban_id",
    "distance_m",
    "overlap_days",
    "gap_days",
    "shared_length_m",
    "facts",
    "clears_if",
]


@main.group("clashes")
def clashes_group() -> None:
    """Find and list clashes: conflicts, chances to combine, dig-ban violations."""


@clashes_group.command("recompute")
@click.option(
    "--in-memory/--sql",
    default=True,
    help="Find the pairs in memory (default, faster) or with a PostGIS join; same answer.",
)
@with_appcontext
@clean_errors
def clashes_recompute(in_memory: bool) -> None:
    """Recompute every clash; reviews are kept, vanished clashes become resolved."""
    from .. import engine

    started = time.perf_counter()
    with unit_of_work() as session:
        outcome = engine.recompute_all(session, actor="system:cli", in_memory=in_memory)
    click.echo(f"{outcome.summary()} ({time.perf_counter() - started:.1f} s)")


def _bbox(value: str | None):
    if not value:
        return None
    try:
        parts = tuple(float(v) for v in value.split(","))
    except ValueError:
        raise click.BadParameter("four numbers: min x,min y,max x,max y") from None
    if len(parts) != 4:
        raise click.BadParameter("four numbers: min x,min y,max x,max y")
    return parts


def _period(value: str | None):
    if not value:
        return None
    try:
        start, end = (date.fromisoformat(v.strip()) for v in value.split("/"))
    except ValueError:
        raise click.BadParameter("two dates: 2027-01-01/2027-12-31") from None
    return start, end


@clashes_group.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table")
@click.option("--kind", type=click.Choice(["conflict", "opportunity", "violation"]))
@click.option(
    "--status", type=click.Choice(["open", "combine", "accepted", "dismissed", "resolved"])
)
@click.option("--organisation", type=int, help="Organisation id.")
@click.option("--discipline")
@click.option("--bbox", help="min x,min y,max x,max y in the project CRS.")
@click.option("--period", help="start/end, e.g. 2027-01-01/2027-12-31.")
@click.option("--page", type=int, default=1)
@click.option("--per-page", type=int, default=50)
@with_appcontext
@clean_errors
def clashes_list(fmt, kind, status, organisation, discipline, bbox, period, page, per_page):
    """List the clashes, highest score first."""
    from ..services.clashes import ClashFilters, list_clashes

    filters = ClashFilters(
        kind=kind,
        status=status,
        organisation_id=organisation,
        discipline=discipline,
        bbox=_bbox(bbox),
        period=_period(period),
    )
    if page < 1:
        raise click.BadParameter("pages count from 1", param_hint="--page")
    with unit_of_work() as session:
        result = list_clashes(
            session,
            Actor.system("cli"),
            filters,
            limit=per_page,
            offset=(page - 1) * per_page,
        )
        rows = [
            {
                "id": v.clash.id,
                "kind": v.clash.kind.value,
                "rule": v.clash.rule.code,
                "status": v.clash.status.value,
                "score": v.clash.score,
                "work_a_id": v.clash.work_a_id,
                "work_b_id": v.clash.work_b_id,
                "dig_ban_id": v.clash.dig_ban_id,
                "distance_m": v.clash.distance_m,
                "overlap_days": v.clash.overlap_days,
                "gap_days": v.clash.gap_days,
                "shared_length_m": v.clash.shared_length_m,
                "facts": v.explanation["facts"],
                "clears_if": v.explanation["clears_if"],
            }
            for v in result.items
        ]
    if fmt == "json":
        body = {"total": result.total, "page": page, "per_page": per_page, "clashes": rows}
        click.echo(json.dumps(body, indent=2))
    elif fmt == "csv":
        from ..io.writers import write_csv_table

        table = write_csv_table(COLUMNS, ([r[c] for c in COLUMNS] for r in rows))
        click.echo(table, nl=False)
    elif not rows:
        click.echo("no clashes (kip clashes recompute finds them)")
    else:
        click.echo(
            f"{'id':>6}  {'kind':<11}  {'status':<9}  {'score':>6}  {'work a':>7}  "
            f"{'with':>10}  {'dist m':>7}  days"
        )
        for r in rows:
            other = f"ban {r['dig_ban_id']}" if r["dig_ban_id"] else str(r["work_b_id"])
            days = f"+{r['overlap_days']}" if r["overlap_days"] else f"gap {r['gap_days']}"
            click.echo(
                f"{r['id']:>6}  {r['kind']:<11}  {r['status']:<9}  {r['score']:>6.1f}  "
                f"{r['work_a_id']:>7}  {other:>10}  {r['distance_m']:>7.1f}  {days}"
            )
        click.echo(f"{len(rows)} of {result.total} (page {page})")


@main.group("digbans")
def digbans_group() -> None:
    """Dig bans: proposals from completed road works, creating and ending them."""


@digbans_group.command("proposals")
@click.option("--create", is_flag=True, help="Create the proposed bans.")
@with_appcontext
@clean_errors
def digbans_proposals(create: bool) -> None:
    """List (or --create) the dig bans completed road works call for."""
    from ..engine.digbans import create_dig_ban, pending_proposals

    with unit_of_work() as session:
        proposals = pending_proposals(session, current_app.config)
        for p in proposals:
            line = f"work {p.source_work_id}: {p.start_date} to {p.end_date}, {p.title}"
            if create:
                ban = create_dig_ban(session, Actor.system("cli"), p)
                line = f"created dig ban {ban.id} for " + line
            click.echo(line)
    if not proposals:
        click.echo("no completed road works without a dig ban")


@digbans_group.command("list")
@click.option("--all", "everything", is_flag=True, help="Also the bans that have ended.")
@with_appcontext
@clean_errors
def digbans_list(everything: bool) -> None:
    """List the dig bans (the current and coming ones unless --all)."""
    from ..services.digbans import list_dig_bans

    with unit_of_work() as session:
        bans = list_dig_bans(session, Actor.system("cli"), include_ended=everything)
        for ban in bans:
            source = f", after work {ban.source_work_id}" if ban.source_work_id else ""
            click.echo(
                f"{ban.id:>6}  {ban.start_date} to {ban.end_date}  {ban.title}"
                f" (organisation {ban.organisation_id}{source})"
            )
    if not bans:
        click.echo("no dig bans")


# The fields of a dig ban, as `kip digbans create` takes them.
BAN_OPTIONS = {
    "organisation": "--org",
    "title": "--title",
    "start_date": "--from",
    "end_date": "--to",
    "geometry": "--area",
}


@digbans_group.command("create")
@click.option("--org", "organisation", required=True, type=int, help="Organisation id.")
@click.option("--title", required=True)
@click.option("--reason", default="")
@click.option("--from", "start", required=True, help="First day (YYYY-MM-DD).")
@click.option("--to", "end", required=True, help="Last day (YYYY-MM-DD).")
@click.option(
    "--area", required=True, help="The area as WKT (a polygon), in the project CRS unless --srid."
)
@click.option("--srid", type=int, help="The CRS of --area (EPSG code).")
@with_appcontext
@clean_errors
def digbans_create(organisation, title, reason, start, end, area, srid) -> None:
    """Create a dig ban over an area and a period; its violations are found at once."""
    from ..services.digbans import DigBanData, create_dig_ban

    try:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError:
        raise click.BadParameter("dates as YYYY-MM-DD") from None
    try:
        with unit_of_work() as session:
            ban = create_dig_ban(
                session,
                Actor.system("cli"),
                DigBanData(
                    organisation_id=organisation,
                    title=title,
                    reason=reason,
                    area_wkt=area,
                    area_srid=srid,
                    start_date=first,
                    end_date=last,
                ),
            )
            click.echo(f"created dig ban {ban.id}: {ban.start_date} to {ban.end_date}, {ban.title}")
    except ValidationError as error:
        raise click.ClickException(problem_line(error, BAN_OPTIONS)) from None


@digbans_group.command("end")
@click.argument("ban_id", type=int)
@click.option("--on", "on", required=True, help="The ban's last day (YYYY-MM-DD).")
@with_appcontext
@clean_errors
def digbans_end(ban_id: int, on: str) -> None:
    """End dig ban BAN_ID on a day; its later violations are resolved."""
    from ..engine.digbans import end_dig_ban

    try:
        last = date.fromisoformat(on)
    except ValueError:
        raise click.BadParameter("a date as YYYY-MM-DD", param_hint="--on") from None
    try:
        with unit_of_work() as session:
            ban = end_dig_ban(session, Actor.system("cli"), ban_id, last)
            click.echo(f"dig ban {ban.id} now ends on {ban.end_date.isoformat()}")
    except ValidationError as error:
        raise click.ClickException(problem_line(error, {"end_date": "--on"})) from None
