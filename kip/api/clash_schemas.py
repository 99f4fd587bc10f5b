"""Request and response shapes of the clash, combination and draft-check endpoints."""

from __future__ import annotations

from marshmallow import EXCLUDE, RAISE, Schema, fields, validate

from ..models import REVIEW_STATUSES, ClashKind, ClashStatus
from .schemas import LinkSchema, OrganisationRefSchema, Text

NULLABLE_GEOMETRY = {"type": "object", "nullable": True}
WITHHELD = {"description": "null when the clash is redacted for you"}


class ClashQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    kind = Text(validate=validate.OneOf([k.value for k in ClashKind]))
    status = Text(validate=validate.OneOf([s.value for s in ClashStatus]))
    organisation = fields.Int(
        validate=validate.Range(min=1, max=2**62),
        metadata={"description": "clashes with a work of this organisation (that you see)"},
    )
    discipline = Text(validate=validate.Length(min=1, max=40))
    bbox = Text(
        validate=validate.Regexp(r"^-?[0-9.]+,-?[0-9.]+,-?[0-9.]+,-?[0-9.]+$"),
        metadata={"description": "minlon,minlat,maxlon,maxlat (EPSG:4326): where they meet"},
    )
    start = fields.Date(metadata={"description": "clashes with a work still going on then"})
    end = fields.Date(metadata={"description": "clashes with a work that has started by then"})
    limit = fields.Int(load_default=100, validate=validate.Range(min=1, max=1000))
    offset = fields.Int(load_default=0, validate=validate.Range(min=0, max=10_000_000))


class WorkSideSchema(Schema):
    """One side of a clash. ``visible: false`` and nothing else when you may not see it."""

    visible = fields.Bool(required=True)
    id = fields.Int()
    title = fields.Str()
    organisation = fields.Nested(OrganisationRefSchema)
    discipline = fields.Str()
    phase = fields.Str()
    start_date = fields.Date()
    end_date = fields.Date()
    excavation = fields.Bool()
    traffic_impact = fields.Str()


class DigBanSideSchema(Schema):
    id = fields.Int(required=True)
    title = fields.Str(required=True)
    organisation_id = fields.Int(required=True)
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)


class RuleRefSchema(Schema):
    code = fields.Str(required=True)
    name = fields.Str(required=True)


class ExplanationSchema(Schema):
    facts = fields.Str(required=True)
    clears_if = fields.Str(required=True)


class ReviewSchema(Schema):
    note = fields.Str(allow_none=True, metadata={"description": "null when withheld from you"})
    by = fields.Str(allow_none=True)
    at = fields.DateTime(allow_none=True)


class ClashHistorySchema(Schema):
    action = fields.Str(required=True)
    status_from = fields.Str(required=True)
    status_to = fields.Str(required=True)
    note = fields.Str(allow_none=True)
    actor = fields.Str(required=True)
    at = fields.DateTime(required=True)


class ClashPropertiesSchema(Schema):
    kind = fields.Str(required=True)
    status = fields.Str(required=True)
    rule = fields.Nested(RuleRefSchema, required=True)
    score = fields.Float(required=True, allow_none=True, metadata=WITHHELD)
    distance_m = fields.Float(required=True, allow_none=True, metadata=WITHHELD)
    overlap_days = fields.Int(required=True, allow_none=True, metadata=WITHHELD)
    gap_days = fields.Int(required=True, allow_none=True, metadata=WITHHELD)
    shared_length_m = fields.Float(required=True, allow_none=True, metadata=WITHHELD)
    explanation = fields.Nested(ExplanationSchema, required=True)
    redacted = fields.Bool(
        required=True,
        metadata={
            "description": "your work meets a work you may not see: you are told the rule, "
            "kind and status only; work_a is then your work, work_b the hidden one"
        },
    )
    disclosed = fields.Bool(
        required=True,
        metadata={"description": "a coordinator showed both works to the partners involved"},
    )
    work_a = fields.Nested(WorkSideSchema, required=True)
    work_b = fields.Nested(WorkSideSchema, allow_none=True)
    dig_ban = fields.Nested(DigBanSideSchema, allow_none=True)
    review = fields.Nested(ReviewSchema, required=True)
    first_found_at = fields.DateTime(required=True, allow_none=True, metadata=WITHHELD)
    measured_at = fields.DateTime(required=True, allow_none=True, metadata=WITHHELD)
    resolved_at = fields.DateTime(allow_none=True)


class ClashDetailPropertiesSchema(ClashPropertiesSchema):
    history = fields.List(fields.Nested(ClashHistorySchema), required=True)


class ClashFeatureSchema(Schema):
    type = fields.Str(required=True, metadata={"enum": ["Feature"]})
    id = fields.Int(required=True)
    geometry = fields.Raw(
        required=True,
        allow_none=True,
        metadata={
            **NULLABLE_GEOMETRY,
            "description": "where they meet (EPSG:4326); null when the other side is "
            "hidden from you",
        },
    )
    properties = fields.Nested(ClashPropertiesSchema, required=True)


class ClashDetailSchema(ClashFeatureSchema):
    properties = fields.Nested(ClashDetailPropertiesSchema, required=True)


class ClashCollectionSchema(Schema):
    type = fields.Str(required=True, metadata={"enum": ["FeatureCollection"]})
    features = fields.List(fields.Nested(ClashFeatureSchema), required=True)
    numberMatched = fields.Int(required=True)
    numberReturned = fields.Int(required=True)
    links = fields.List(fields.Nested(LinkSchema), required=True)


class ReviewInSchema(Schema):
    class Meta:
        unknown = RAISE

    status = Text(required=True, validate=validate.OneOf([s.value for s in REVIEW_STATUSES]))
    note = Text(load_default="", validate=validate.Length(max=10_000))
    expected_status = Text(
        validate=validate.OneOf([s.value for s in ClashStatus]),
        metadata={"description": "the status you read; a clash that moved on gets 409"},
    )
    disclosed = fields.Bool(
        metadata={"description": "show both works in full to the partners involved"}
    )


class CombinationQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    organisation = fields.Int(validate=validate.Range(min=1, max=2**62))


class WindowSchema(Schema):
    start = fields.Date(required=True)
    end = fields.Date(required=True)


class CombinationSchema(Schema):
    works = fields.List(fields.Nested(WorkSideSchema), required=True)
    organisation_ids = fields.List(fields.Int(), required=True)
    clash_ids = fields.List(fields.Int(), required=True)
    window = fields.Nested(WindowSchema, allow_none=True)
    no_window_reason = fields.Str(allow_none=True)
    shared_length_m = fields.Float(required=True)
    trench_m_saved = fields.Float(required=True)
    repaving_m2_saved = fields.Float(required=True)
    closure_days_spared = fields.Int(required=True)
    estimated_saving_eur = fields.Float(required=True)


class CombinationListSchema(Schema):
    combinations = fields.List(fields.Nested(CombinationSchema), required=True)
    numberMatched = fields.Int(required=True)


class DraftClashSchema(Schema):
    """A clash the draft would have with a work or dig ban you may see (works you may not
    see are not checked: a draft leaves no trace)."""

    kind = fields.Str(required=True)
    rule = fields.Nested(RuleRefSchema, required=True)
    score = fields.Float(required=True)
    distance_m = fields.Float(required=True)
    overlap_days = fields.Int(required=True)
    gap_days = fields.Int(required=True)
    work = fields.Nested(WorkSideSchema, allow_none=True)
    dig_ban = fields.Nested(DigBanSideSchema, allow_none=True)
    explanation = fields.Nested(ExplanationSchema, required=True)
    geometry = fields.Raw(required=True, allow_none=True, metadata=NULLABLE_GEOMETRY)


class DraftCheckSchema(Schema):
    clashes = fields.List(fields.Nested(DraftClashSchema), required=True)
