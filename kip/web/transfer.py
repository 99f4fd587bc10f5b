"""Pages to import a file of works and to download the plan as a file."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, StringField
from wtforms.validators import Length, Optional

from .. import db, policy
from ..errors import KipError
from ..io.columns import Mapping
from ..security import current_actor
from ..services.exports import FORMATS, export_works
from ..services.imports import ImportRejected, ImportSettings, import_file, row_runs
from ..services.search import WorkFilter

bp = Blueprint("transfer", __name__)

# What the report's actions mean, in the reader's language.
ACTIONS = {
    "create": _l("new"),
    "update": _l("changed"),
    "restore": _l("restored"),
    "unchanged": _l("unchanged"),
    "error": _l("problem"),
    "missing": _l("no longer in the file"),
}


class ImportForm(FlaskForm):
    file = FileField(
        _l("File (GeoPackage, zipped Shapefile, KML, CSV or GeoJSON)"), validators=[FileRequired()]
    )
    mapping = FileField(_l("Mapping file (optional, YAML or JSON)"))
    crs = StringField(
        _l("Coordinate system, if the file does not say (e.g. EPSG:28992)"),
        validators=[Optional(), Length(max=100)],
    )
    dry_run = BooleanField(_l("Only show what would happen"), default=True)
    cancel_missing = BooleanField(_l("Cancel our works that are no longer in the file"))


@bp.route("/works/import", methods=["GET", "POST"])
def import_page() -> str | tuple[str, int]:
    actor = current_actor()
    policy.require_login(actor)
    form = ImportForm()
    report, problem, status = None, None, 200
    if form.validate_on_submit():
        try:
            mapping = None
            if form.mapping.data:
                mapping = Mapping.parse(form.mapping.data.read(), form.mapping.data.filename)
            report = import_file(
                db.session(),
                actor,
                actor.organisation_id or 0,
                form.file.data.read(),
                settings=ImportSettings.from_config(current_app.config),
                filename=form.file.data.filename or "upload",
                mapping=mapping,
                crs=form.crs.data or None,
                dry_run=form.dry_run.data,
                cancel_missing=form.cancel_missing.data,
            ).to_dict()
        except ImportRejected as rejected:
            report, problem, status = rejected.report.to_dict(), rejected.message, 422
        except KipError as error:
            problem, status = error.message, error.status
    runs = row_runs(report["rows"]) if report else []
    return render_template(
        "works/import.html", form=form, report=report, runs=runs, actions=ACTIONS, problem=problem
    ), status


@bp.get("/works/export")
def export_file() -> Response:
    fmt = request.args.get("format", "geojson")
    filters = WorkFilter.parse(
        bbox=request.args.get("bbox") or None,
        disciplines=[d for d in request.args.getlist("discipline") if d],
        phases=[p for p in request.args.getlist("phase") if p],
        q=request.args.get("q"),
    )
    result = export_works(db.session(), current_actor(), fmt, filters)
    return Response(
        result.data,
        mimetype=FORMATS[fmt][0].split(";")[0],
        headers={"Content-Disposition": f'attachment; filename="kip-works{result.extension}"'},
    )
