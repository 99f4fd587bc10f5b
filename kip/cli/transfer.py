"""`kip import` and `kip export`: works in from a GIS file, and out to one."""

from __future__ import annotations

import json
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from ..actors import Actor
from ..db import unit_of_work
from . import clean_errors, main


@main.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--org", "organisation", required=True, help="The organisation (name or id).")
@click.option("--mapping", type=click.Path(dir_okay=False), help="A mapping file (YAML or JSON).")
@click.option("--dry-run", is_flag=True, help="Report what would happen; write nothing.")
@click.option("--crs", help="The CRS of the coordinates (EPSG code), over what the file says.")
@click.option(
    "--cancel-missing",
    is_flag=True,
    help="Cancel the organisation's works whose external reference is not in the file.",
)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@with_appcontext
@clean_errors
def import_command(
    file: str,
    organisation: str,
    mapping: str | None,
    dry_run: bool,
    crs: str | None,
    cancel_missing: bool,
    fmt: str,
) -> None:
    """Import the works of an organisation from FILE (GeoJSON, GeoPackage, zipped Shapefile,
    KML or CSV): all rows or none; importing the same file again changes nothing."""
    from ..services.imports import ImportRejected, ImportSettings, import_file

    settings = ImportSettings.from_config(current_app.config)
    with click.progressbar(length=100, label="importing", file=sys.stderr, show_eta=False) as bar:
        done = [0]

        def progress(label: str, fraction: float) -> None:
            bar.label = label
            step = int(fraction * 100) - done[0]
            if step > 0:
                bar.update(step)
                done[0] += step

        try:
            with unit_of_work() as session:
                report = import_file(
                    session,
                    Actor.system("import"),
                    organisation,
                    file,
                    settings=settings,
                    mapping=mapping,
                    crs=crs,
                    dry_run=dry_run,
                    cancel_missing=cancel_missing,
                    progress=progress,
                )
                if dry_run:
                    session.rollback()
        except ImportRejected as rejected:
            report = rejected.report
    _show(report, fmt)
    if not report.ok:
        raise click.ClickException(
            "nothing was imported: fix the rows above and import the file again"
        )


def _show(report, fmt: str) -> None:
    from ..services.imports import row_runs

    if fmt == "json":
        click.echo(json.dumps(report.to_dict(), indent=2, default=str))
        return
    head = "dry run: " if report.dry_run else ""
    click.echo(f"{head}{report.filename} → {report.organisation} (coordinates in {report.crs})")
    for note in report.warnings:
        click.echo(f"warning: {note}")
    if report.ignored_columns:
        click.echo(f"columns not used: {', '.join(report.ignored_columns)}")
    # Consecutive rows with the same outcome on one line: a file of 100,000 new works is a
    # line, not 100,000 (--format json has every row).
    click.echo(f"{'row':>13}  {'reference':<20}  {'what':<9}  detail")
    for r in row_runs(report.to_dict()["rows"]):
        rows, ref = str(r["row"]), (r.get("external_ref") or "-")[:20]
        if r["count"] > 1:
            rows = f"{r['row']}-{r['last_row']}"
            ref = f"{ref[:9]}…{(r.get('last_ref') or '-')[:10]}"
        if r.get("problems"):
            detail = "; ".join(f"{p['field']}: {p['message']}" for p in r["problems"])
        elif r.get("changed"):
            detail = "changed " + ", ".join(r["changed"])
        elif r.get("work_id"):
            detail = f"work {r['work_id']}" if r["count"] == 1 else f"{r['count']:,} works"
        else:
            detail = f"{r['count']:,} rows" if r["count"] > 1 else ""
        click.echo(f"{rows:>13}  {ref:<20}  {r['action']:<9}  {detail}")
    for m in report.missing:
        what = "cancelled" if report.cancel_missing and report.applied else "missing"
        click.echo(
            f"{'-':>6}  {m['external_ref'][:20]:<20}  {what:<9}  work {m['work_id']}: "
            f"not in the file ({m['title']})"
        )
    click.echo(report.summary())


@main.command("export")
@click.option(
    "--format", "fmt", type=click.Choice(["geojson", "gpkg", "csv", "xlsx"]), required=True
)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="File to write.")
@click.option("--bbox", help="min lon,min lat,max lon,max lat")
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), help="Works ending on or after.")
@click.option("--end", type=click.DateTime(["%Y-%m-%d"]), help="Works starting on or before.")
@click.option("--discipline", multiple=True, help="Discipline code (repeatable).")
@click.option("--organisation", multiple=True, help="Organisation name or id (repeatable).")
@click.option("--phase", multiple=True, help="Phase code (repeatable).")
@click.option("--q", "query", help="Text in the title, description or reference.")
@with_appcontext
@clean_errors
def export_command(
    fmt: str,
    output: str | None,
    bbox: str | None,
    start,
    end,
    discipline: tuple[str, ...],
    organisation: tuple[str, ...],
    phase: tuple[str, ...],
    query: str | None,
) -> None:
    """Export the works (not deleted), filtered, as GeoJSON, GeoPackage, CSV or XLSX."""
    from ..services.exports import WorkFilter, export_works

    if output is None and fmt in ("gpkg", "xlsx"):
        raise click.UsageError(f"--output is needed for {fmt}")
    filters = WorkFilter.parse(
        bbox=bbox,
        start=start.date() if start else None,
        end=end.date() if end else None,
        disciplines=list(discipline),
        organisations=list(organisation),
        phases=list(phase),
        q=query,
    )
    with unit_of_work() as session:
        result = export_works(session, Actor.system("export"), fmt, filters)
    if output is None:
        click.echo(result.data, nl=False)
        return
    with open(output, "wb") as fh:
        fh.write(result.data)
    click.echo(f"exported {result.count} works to {output}", err=True)
