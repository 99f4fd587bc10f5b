"""`kip clashes ...`: the overlap engine for operators (dig bans: :mod:`kip.cli.digbans`)."""

from __future__ import annotations

import json
import time
from datetime import date

import click
from flask.cli import with_appcontext

from ..actors import Actor
from ..db import unit_of_work
from . import clean_errors, main

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
