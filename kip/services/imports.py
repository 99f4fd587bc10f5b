"""Bulk import of works from a GIS file: plan (dry run) and apply, all or nothing, idempotent.

One path for a file of ten rows and of a hundred thousand:

1. read the file through GDAL (:mod:`kip.io.readers`), convert the cells
   (:mod:`kip.io.rows`) and check and reproject the geometries, vectorised
   (:mod:`kip.io.geometry`);
2. look up which external references the organisation has already; COPY only those rows
   into a temporary staging table;
3. classify the staged rows in one statement - update, restore (a soft-deleted work comes
   back) or unchanged - by the key (organisation, external reference), with the changed
   fields as the history will show them; every other row creates a work;
4. unless it is a dry run or some row has a problem: UPDATE the changed works (version + 1)
   set-based, COPY the new ones straight into works (ids drawn from its sequence first)
   and write the history of both (``work_changes``);
5. compute the clashes of every work created, changed or cancelled, set-based
   (:func:`kip.engine.recompute_works`).

Rows are numbered as the planner counts features: 1 is the first feature (in a CSV, the
first line under the header). The service flushes, never commits.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from collections.abc import Mapping as AnyMapping
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from .. import dates, engine, policy
from ..actors import Actor
from ..collector import paused_gc
from ..config import DEFAULTS
from ..db import bound_srid, long_statements
from ..errors import ValidationError
from ..io.columns import Mapping
from ..io.geometry import guess_crs, prepare_geometries
from ..io.readers import read_source
from ..io.rows import Rows, convert_rows
from ..models import Discipline, Phase
from . import import_staging as staging
from .organisations import find_organisation

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class ImportSettings:
    """The deployment's limits: the region (lon/lat box), the largest file, the most
    vertices of one geometry and of the whole file."""

    region_bbox: tuple[float, float, float, float]
    max_bytes: int
    max_vertices: int = DEFAULTS["GEOMETRY_MAX_VERTICES"]
    max_file_vertices: int = DEFAULTS["IMPORT_MAX_VERTICES"]

    @classmethod
    def from_config(cls, config: AnyMapping[str, Any]) -> ImportSettings:
        return cls(
            tuple(config["REGION_BBOX"]),
            int(config["IMPORT_MAX_BYTES"]),
            max_vertices=int(config["GEOMETRY_MAX_VERTICES"]),
            max_file_vertices=int(config["IMPORT_MAX_VERTICES"]),
        )


@dataclass
class RowResult:
    row: int
    external_ref: str | None
    action: str  # create, update, restore, unchanged or error
    work_id: int | None = None
    changed: list[str] = field(default_factory=list)
    problems: list[dict[str, str]] = field(default_factory=list)


@dataclass
class ImportReport:
    """What an import did or would do, row by row; ``to_dict`` is its JSON."""

    filename: str
    organisation: str
    dry_run: bool
    crs: str
    rows: list[RowResult] = field(default_factory=list)
    missing: list[dict[str, Any]] = field(default_factory=list)
    cancel_missing: bool = False
    applied: bool = False
    warnings: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(r.problems for r in self.rows)

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(("create", "update", "restore", "unchanged", "error"), 0)
        for r in self.rows:
            counts[r.action] += 1
        counts["missing"] = len(self.missing)
        return counts

    @property
    def changed_work_ids(self) -> list[int]:
        """The works this import created or changed (cancelled ones included): what the
        overlap engine must look at again."""
        ids = [r.work_id for r in self.rows if r.action in ("create", "update", "restore")]
        if self.cancel_missing:
            ids += [m["work_id"] for m in self.missing]
        return [i for i in ids if i is not None]

    def summary(self) -> str:
        c = self.counts()
        verb = "would be" if self.dry_run or not self.applied else "were"
        text_ = (
            f"{c['create']} to create, {c['update'] + c['restore']} to update, "
            f"{c['unchanged']} unchanged, {c['error']} with problems"
        )
        if self.applied:
            text_ = (
                f"{c['create']} created, {c['update'] + c['restore']} updated, "
                f"{c['unchanged']} unchanged"
            )
        if self.missing:
            what = "cancelled" if self.cancel_missing else "not in the file (not cancelled)"
            text_ += f"; {len(self.missing)} works {verb} {what}"
        return text_

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.filename,
            "organisation": self.organisation,
            "dry_run": self.dry_run,
            "applied": self.applied,
            "crs": self.crs,
            "counts": self.counts(),
            "columns": self.columns,
            "ignored_columns": self.ignored_columns,
            "warnings": self.warnings,
            "rows": [
                {k: val for k, val in r.__dict__.items() if val not in ([], None)}
                for r in self.rows
            ],
            "missing": self.missing,
            "cancel_missing": self.cancel_missing,
        }


class ImportRejected(ValidationError):
    """Some rows have problems: nothing was written. ``report`` says which and why."""

    code = "import-rejected"

    def __init__(self, report: ImportReport) -> None:
        bad = [r for r in report.rows if r.problems]
        first = bad[0]
        super().__init__(
            f"{report.filename}: {len(bad)} row(s) with problems, nothing was imported "
            f"(first: row {first.row}, {first.problems[0]['field']}: "
            f"{first.problems[0]['message']})",
            report=report.to_dict(),
        )
        self.report = report


def import_file(
    session: Session,
    actor: Actor,
    organisation: int | str,
    source: str | Path | bytes,
    *,
    settings: ImportSettings,
    filename: str | None = None,
    mapping: Mapping | str | Path | None = None,
    crs: int | str | None = None,
    dry_run: bool = False,
    cancel_missing: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import the works of ``organisation`` (id or name) from a file.

    ``source`` is a path, or the bytes of an upload (then ``filename`` names it, for its
    extension and the messages). A dry run reports and writes nothing. A real run with any
    row problem raises :class:`ImportRejected` (its ``report`` is the same report) and
    writes nothing; a file that cannot be read at all raises ``FileRefused``.
    ``cancel_missing`` sets the phase of the organisation's works that are missing from
    the file to ``cancelled``.
    """
    if isinstance(source, bytes):
        if not filename:
            raise ValidationError("an uploaded file needs its name", errors={"file": "no name"})
        with tempfile.TemporaryDirectory(prefix="kip-upload-") as tmp:
            path = Path(tmp) / Path(filename).name
            path.write_bytes(source)
            return import_file(
                session,
                actor,
                organisation,
                path,
                settings=settings,
                filename=filename,
                mapping=mapping,
                crs=crs,
                dry_run=dry_run,
                cancel_missing=cancel_missing,
                progress=progress,
            )
    # The cycle collector is paused while the file's rows and geometries are made and
    # checked: none form cycles, but its passes over them took a quarter of the import.
    with paused_gc():
        step = progress or (lambda _label, _done: None)
        org = find_organisation(session, organisation)
        policy.require_edit_rights(actor, org.id)
        if not isinstance(mapping, Mapping):
            mapping = Mapping.load(mapping) if mapping is not None else Mapping()
        srid = bound_srid()

        step("reading", 0.0)
        table = read_source(
            source,
            max_bytes=settings.max_bytes,
            max_vertices=settings.max_file_vertices,
            filename=filename,
            crs=crs,
            mapping=mapping,
        )
        if table.crs is None:
            table.crs = guess_crs(table.geometries, srid)
            table.warnings.append(
                f"{table.filename} does not say its coordinate system; its coordinates look like "
                f"EPSG:{table.crs.to_epsg()} (say it with --crs if not)"
            )
        step("checking", 0.2)
        rows = convert_rows(table, mapping, _reference(session), dates.allowed(session))
        for problem in table.problems:
            rows.add(problem.row - 1, problem.field, problem.message)
        geoms, geometry_problems = prepare_geometries(
            table.geometries,
            table.crs,
            srid,
            settings.region_bbox,
            max_vertices=settings.max_vertices,
        )
        failed_cells = {
            i for i, ps in rows.problems.items() for f, _ in ps if f in table.skip_columns
        }
        for i, message in geometry_problems.items():
            if i not in failed_cells:
                rows.add(i, "geometry", message)
        rows.columns["geom"] = geoms

        report = ImportReport(
            filename=table.filename,
            organisation=org.name,
            dry_run=dry_run,
            crs=_crs_name(table),
            cancel_missing=cancel_missing,
            warnings=table.warnings,
            columns=rows.fields,
            ignored_columns=rows.ignored,
        )
        step("staging", 0.4)
        long_statements(session)  # an import's statements take longer than a request's
        session.flush()
        conn = session.connection()
        if not dry_run:
            # Two imports for one organisation at once would race for the same references.
            conn.execute(
                text("SELECT pg_advisory_xact_lock(hashtext('kip-import'), :o)"), {"o": org.id}
            )
        # Rows whose reference the organisation has already are compared in the database;
        # the rest are new works, written straight into works (no staging round trip).
        refs = rows.columns["external_ref"]
        ok = np.array([i not in rows.problems for i in range(rows.count)], dtype=bool)
        known = staging.known_refs(session, org.id, [refs[i] for i in np.flatnonzero(ok)])
        is_known = np.array([ref in known for ref in refs], dtype=bool)
        staging.stage_rows(session, rows, srid, np.flatnonzero(ok & is_known))
        step("comparing", 0.6)
        outcomes = staging.classify(session, org.id, rows.present)
        report.rows = _results(rows, outcomes)
        report.missing = staging.missing_works(session, org.id, [r for r in refs if r])
        if not report.ok or dry_run:
            staging.drop_stage(session)
            if not report.ok and not dry_run:
                raise ImportRejected(report)
            return report

        step("writing", 0.8)
        expected = sum(1 for r in report.rows if r.action in ("update", "restore"))
        staging.apply_staged(session, actor, org.id, rows.present, expected)
        new = np.array([i for i, r in enumerate(report.rows) if r.action == "create"], dtype=int)
        for i, work_id in zip(
            new.tolist(), staging.insert_new(session, actor, org.id, rows, new, srid), strict=True
        ):
            report.rows[i].work_id = work_id
        if cancel_missing and report.missing:
            staging.cancel_works(session, actor, org.id, [m["work_id"] for m in report.missing])
        staging.drop_stage(session)
        session.expire_all()  # the ORM's copies of changed works are stale now
        step("clashes", 0.9)
        # Set-based: one recompute for every work this file created, changed or cancelled.
        engine.recompute_works(session, report.changed_work_ids, actor=actor.label)
        report.applied = True
        step("done", 1.0)
        return report


def _crs_name(table: Any) -> str:
    epsg = table.crs.to_epsg()
    name = f"EPSG:{epsg}" if epsg else table.crs.name
    return name if table.crs_said_by == "file" else f"{name} ({table.crs_said_by})"


def _reference(session: Session) -> dict[str, dict[str, tuple[str, str]]]:
    return {
        name: {
            row.code: (row.label_nl, row.label_en)
            for row in session.execute(select(model).where(model.active.is_(True))).scalars()
        }
        for name, model in (("discipline", Discipline), ("phase", Phase))
    }


def _results(rows: Rows, found: dict[int, tuple[int, str, list[str] | None]]) -> list[RowResult]:
    results = []
    refs = rows.columns["external_ref"]
    for i in range(rows.count):
        problems = rows.problems.get(i)
        if problems:
            results.append(
                RowResult(
                    i + 1,
                    refs[i],
                    "error",
                    problems=[{"field": f, "message": m} for f, m in problems],
                )
            )
            continue
        work_id, action, keys = found.get(i + 1, (None, "create", None))
        changed = [staging.FIELD_OF.get(k, k) for k in keys or ()]
        results.append(RowResult(i + 1, refs[i], action, work_id, changed))
    return results


def row_runs(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A report's rows (as in ``to_dict``) for a reader: consecutive rows with the same
    outcome (what happens, which fields change, which problems) as one line, "rows
    1-99,998: create", so that a file of 100,000 works reads as a few lines - every row
    accounted for - rather than as 100,000. Each run is its first row with ``last_row``,
    ``last_ref`` and ``count``."""

    def outcome(row: dict[str, Any]) -> tuple:
        problems = tuple((p["field"], p["message"]) for p in row.get("problems", ()))
        return row["action"], tuple(row.get("changed", ())), problems

    runs = []
    for _, group in groupby(rows, key=outcome):
        same = list(group)
        first, last = same[0], same[-1]
        runs.append(
            {
                **first,
                "last_row": last["row"],
                "last_ref": last.get("external_ref"),
                "count": len(same),
            }
        )
    return runs
