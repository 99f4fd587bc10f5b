"""Request and response shapes of the dig-ban endpoints."""

from __future__ import annotations

from marshmallow import EXCLUDE, RAISE, Schema, fields, validate

from .schemas import GeometrySchema, Text


class DigBanQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    include_ended = fields.Bool(load_default=False)


class DigBanPropertiesSchema(Schema):
    title = fields.Str(required=True)
    reason = fields.Str(required=True)
    organisation_id = fields.Int(required=True)
    source_work_id = fields.Int(allow_none=True)
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)
    version = fields.Int(required=True)


class DigBanFeatureSchema(Schema):
    type = fields.Str(required=True, metadata={"enum": ["Feature"]})
    id = fields.Int(required=True)
    geometry = fields.Raw(required=True, metadata={"type": "object"})
    properties = fields.Nested(DigBanPropertiesSchema, required=True)


class DigBanCollectionSchema(Schema):
    type = fields.Str(required=True, metadata={"enum": ["FeatureCollection"]})
    features = fields.List(fields.Nested(DigBanFeatureSchema), required=True)


class DigBanInPropertiesSchema(Schema):
    class Meta:
        unknown = RAISE

    title = Text(required=True, validate=validate.Length(min=1, max=200))
    reason = Text(load_default="", validate=validate.Length(max=10_000))
    organisation = fields.Int(
        validate=validate.Range(min=1, max=2**62),
        metadata={"description": "who imposes it (default: your own organisation)"},
    )
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)


class DigBanInSchema(Schema):
    class Meta:
        unknown = RAISE

    type = Text(required=True, validate=validate.Equal("Feature"))
    id = fields.Raw(allow_none=True, metadata={"description": "ignored on input"})
    geometry = fields.Nested(GeometrySchema, required=True)
    properties = fields.Nested(DigBanInPropertiesSchema, required=True)


class DigBanPatchPropertiesSchema(Schema):
    class Meta:
        unknown = RAISE

    title = Text(validate=validate.Length(min=1, max=200))
    reason = Text(validate=validate.Length(max=10_000))
    start_date = fields.Date()
    end_date = fields.Date(metadata={"description": "an earlier last day ends the ban"})


class DigBanPatchSchema(Schema):
    class Meta:
        unknown = RAISE

    type = Text(validate=validate.Equal("Feature"))
    id = fields.Raw(allow_none=True)
    geometry = fields.Nested(GeometrySchema)
    properties = fields.Nested(DigBanPatchPropertiesSchema)


class DigBanProposalPropertiesSchema(Schema):
    source_work_id = fields.Int(
        required=True, metadata={"description": "the completed road work that calls for it"}
    )
    title = fields.Str(required=True)
    reason = fields.Str(required=True)
    organisation_id = fields.Int(required=True)
    start_date = fields.Date(required=True, metadata={"description": "the day after the work"})
    end_date = fields.Date(required=True)


class DigBanProposalSchema(Schema):
    type = fields.Str(required=True, metadata={"enum": ["Feature"]})
    id = fields.Int(required=True, metadata={"description": "the source work's id"})
    geometry = fields.Raw(
        required=True,
        metadata={"type": "object", "description": "the work grown by DIG_BAN_BUFFER_M"},
    )
    properties = fields.Nested(DigBanProposalPropertiesSchema, required=True)


class DigBanProposalCollectionSchema(Schema):
    type = fields.Str(required=True, metadata={"enum": ["FeatureCollection"]})
    features = fields.List(fields.Nested(DigBanProposalSchema), required=True)
