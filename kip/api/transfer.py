"""``/api/v1/imports`` and ``/api/v1/exports``: whole files in and out.

An import takes a file from a partner's GIS (GeoPackage, zipped Shapefile, KML, CSV,
GeoJSON) for the sender's organisation; ``dry_run`` (the default) says what would happen,
row by row, without writing. A real run is all or nothing. An export gives the works you
may see, with the filters of ``GET /api/v1/works``, as GeoJSON, GeoPackage, CSV or XLSX.
"""

from __future__ import annotations

from flask import Response, current_app
from flask.views import MethodView
from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from .. import db, policy
from ..io.columns import Mapping
from ..security import csrf_for_session_writes, current_actor
from ..services.exports import FORMATS, export_works
from ..services.imports import ImportSettings, import_file
from ..services.search import WorkFilter
from .parsing import Blueprint
from .schemas import Text, WorkQuerySchema, problem_responses, split_codes

blp = Blueprint("api_transfer", __name__, url_prefix="/api/v1", description="Files in and out")
blp.before_request(csrf_for_session_writes)


class ImportFilesSchema(Schema):
    file = Upload(required=True, metadata={"description": "the file to import"})
    mapping = Upload(metadata={"description": "a mapping file (YAML or JSON), see docs"})


class ImportFormSchema(Schema):
    crs = Text(validate=validate.Length(max=100), metadata={"description": "e.g. EPSG:28992"})
    dry_run = fields.Bool(load_default=True, metadata={"description": "only say what would happen"})
    cancel_missing = fields.Bool(
        load_default=False,
        metadata={"description": "cancel this organisation's works that the file no longer has"},
    )


class ImportReportSchema(Schema):
    file = fields.Str(required=True)
    organisation = fields.Str(required=True)
    dry_run = fields.Bool(required=True)
    applied = fields.Bool(required=True)
    crs = fields.Str(required=True)
    counts = fields.Dict(keys=fields.Str(), values=fields.Int(), required=True)
    columns = fields.Dict(keys=fields.Str(), values=fields.Str(), required=True)
    ignored_columns = fields.List(fields.Str(), required=True)
    warnings = fields.List(fields.Str(), required=True)
    rows = fields.List(fields.Dict(), required=True)
    missing = fields.List(fields.Dict(), required=True)
    cancel_missing = fields.Bool(required=True)


class ExportQuerySchema(WorkQuerySchema):
    format = Text(load_default="geojson", validate=validate.OneOf(list(FORMATS)))

    class Meta:
        exclude = ("limit", "offset")


@blp.route("/imports")
class Imports(MethodView):
    @blp.arguments(ImportFormSchema, location="form")
    @blp.arguments(ImportFilesSchema, location="files")
    @blp.response(200, ImportReportSchema)
    @problem_responses(blp, 400, 401, 403, 413, 422, 429)
    def post(self, form: dict, files: dict):
        """Import a file of works for your organisation (a dry run unless dry_run=false)."""
        actor = current_actor()
        policy.require_login(actor)
        upload = files["file"]
        mapping = None
        if files.get("mapping"):
            mapping = Mapping.parse(files["mapping"].read(), files["mapping"].filename or "map")
        report = import_file(
            db.session(),
            actor,
            actor.organisation_id or 0,
            upload.read(),
            settings=ImportSettings.from_config(current_app.config),
            filename=upload.filename or "upload",
            mapping=mapping,
            crs=form.get("crs") or None,
            dry_run=form["dry_run"],
            cancel_missing=form["cancel_missing"],
        )
        return report.to_dict()


@blp.route("/exports")
class Exports(MethodView):
    @blp.arguments(ExportQuerySchema, location="query")
    @blp.doc(
        responses={
            "200": {
                "description": "the file",
                "content": {
                    media: {
                        "schema": {"type": "object"}
                        if media.endswith("json")
                        else {"type": "string", "format": "binary"}
                    }
                    for media, _ext in FORMATS.values()
                },
            }
        }
    )
    @problem_responses(blp, 401, 422, 429)
    def get(self, args: dict):
        """The works you may see, filtered as in GET /works, as one file."""
        filters = WorkFilter.parse(
            bbox=args.get("bbox"),
            start=args.get("start"),
            end=args.get("end"),
            disciplines=split_codes(args.get("discipline")),
            phases=split_codes(args.get("phase")),
            organisations=[str(args["organisation"])] if args.get("organisation") else [],
            q=args.get("q"),
        )
        result = export_works(db.session(), current_actor(), args["format"], filters)
        return Response(
            result.data,
            mimetype=result.media_type.split(";")[0],
            headers={
                "Content-Disposition": f'attachment; filename="kip-works{result.extension}"',
                "X-Total-Count": str(result.count),
            },
        )
