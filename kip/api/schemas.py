"""The API's request and response shapes (marshmallow), which also make the OpenAPI document."""

from __future__ import annotations

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate

from ..models import Precision, TrafficImpact, Visibility
from ..work_fields import (
    BUDGET_BELOW,
    CODE_LENGTH,
    GEOMETRY_TYPES,
    TAG_COUNT,
    TAG_LENGTH,
    TEXT_LENGTHS,
)


def storable(value: str) -> None:
    """Text PostgreSQL can keep: no NUL characters, and valid Unicode (no lone surrogates)."""
    if "\x00" in value:
        raise ValidationError("text may not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError("text must be valid Unicode") from None


class Text(fields.String):
    """A string field that refuses what the database cannot store."""

    def __init__(self, **kwargs) -> None:
        validators = kwargs.pop("validate", None)
        validators = [validators] if callable(validators) else list(validators or [])
        super().__init__(validate=[storable, *validators], **kwargs)


class TextEmail(fields.Email):
    def __init__(self, **kwargs) -> None:
        super().__init__(
            validate=[storable, validate.Length(max=TEXT_LENGTHS["contact_email"])], **kwargs
        )


def split_codes(text: str | None) -> tuple[str, ...]:
    """``"sewer, water"`` as ``("sewer", "water")``: a query parameter of several codes.

    >>> split_codes(" sewer,,water ")
    ('sewer', 'water')
    """
    return tuple(part.strip() for part in (text or "").split(",") if part.strip())


class ProblemSchema(Schema):
    """An RFC 9457 problem: what went wrong, and per field when the input was at fault."""

    type = fields.Str()
    title = fields.Str(required=True)
    status = fields.Int(required=True)
    code = fields.Str()
    detail = fields.Str()
    errors = fields.Raw(metadata={"description": "per field (or row): what is wrong"})
    current_version = fields.Int()


class GeometrySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    type = fields.Str(required=True, validate=validate.OneOf(list(GEOMETRY_TYPES)))
    coordinates = fields.Raw(required=True, metadata={"type": "array", "items": {}})


def _at_most(name: str) -> validate.Length:
    return validate.Length(max=TEXT_LENGTHS[name])


class WorkPropertiesSchema(Schema):
    """The fields of a work (what each may hold: :mod:`kip.work_fields`). ``organisation``
    is always the sender's own."""

    class Meta:
        unknown = RAISE

    title = Text(required=True, validate=validate.Length(min=1, max=TEXT_LENGTHS["title"]))
    description = Text(load_default="", validate=_at_most("description"))
    discipline = Text(required=True, validate=validate.Length(min=1, max=CODE_LENGTH))
    phase = Text(required=True, validate=validate.Length(min=1, max=CODE_LENGTH))
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)
    precision = Text(
        load_default=Precision.DAY.value, validate=validate.OneOf([p.value for p in Precision])
    )
    excavation = fields.Bool(load_default=False)
    traffic_impact = Text(
        load_default=TrafficImpact.NONE.value,
        validate=validate.OneOf([t.value for t in TrafficImpact]),
    )
    visibility = Text(
        load_default=Visibility.PARTNERS.value,
        validate=validate.OneOf([v.value for v in Visibility]),
    )
    external_ref = Text(allow_none=True, load_default=None, validate=_at_most("external_ref"))
    contact_name = Text(allow_none=True, load_default=None, validate=_at_most("contact_name"))
    contact_email = TextEmail(allow_none=True, load_default=None)
    contact_phone = Text(allow_none=True, load_default=None, validate=_at_most("contact_phone"))
    budget = fields.Decimal(
        allow_none=True,
        load_default=None,
        places=2,
        as_string=False,
        validate=validate.Range(min=0, max=BUDGET_BELOW, max_inclusive=False),
        # OpenAPI 3.0's words for the range (as numbers: apispec writes a Decimal as text).
        metadata={
            "minimum": 0,
            "maximum": int(BUDGET_BELOW),
            "exclusiveMaximum": True,
            "description": "euros",
        },
    )
    tags = fields.List(
        Text(validate=validate.Length(min=1, max=TAG_LENGTH)),
        load_default=list,
        validate=validate.Length(max=TAG_COUNT),
    )


class WorkPatchPropertiesSchema(WorkPropertiesSchema):
    """The same fields, each optional: only what is sent changes."""

    class Meta:
        unknown = RAISE


class WorkFeatureInSchema(Schema):
    """A GeoJSON Feature with the work's fields as properties."""

    class Meta:
        unknown = RAISE

    type = Text(required=True, validate=validate.Equal("Feature"))
    id = fields.Raw(allow_none=True, metadata={"description": "ignored on input"})
    geometry = fields.Nested(GeometrySchema, required=True)
    properties = fields.Nested(WorkPropertiesSchema, required=True)


class WorkFeaturePatchSchema(Schema):
    class Meta:
        unknown = RAISE

    type = Text(validate=validate.Equal("Feature"))
    id = fields.Raw(allow_none=True)
    geometry = fields.Nested(GeometrySchema)
    properties = fields.Nested(WorkPatchPropertiesSchema(partial=True))


class OrganisationRefSchema(Schema):
    id = fields.Int(required=True)
    name = fields.Str(required=True)


class WorkPropertiesOutSchema(Schema):
    title = fields.Str(required=True)
    description = fields.Str(required=True)
    organisation = fields.Nested(OrganisationRefSchema, required=True)
    discipline = fields.Str(required=True)
    phase = fields.Str(required=True)
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)
    precision = fields.Str(required=True)
    excavation = fields.Bool(required=True)
    traffic_impact = fields.Str(required=True)
    visibility = fields.Str(required=True)
    external_ref = fields.Str(allow_none=True)
    contact_name = fields.Str(allow_none=True)
    contact_email = fields.Str(allow_none=True)
    contact_phone = fields.Str(allow_none=True)
    budget = fields.Decimal(allow_none=True, as_string=True)
    tags = fields.List(fields.Str(), required=True)
    version = fields.Int(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    deleted = fields.Bool(required=True)


class WorkFeatureOutSchema(Schema):
    type = fields.Str(required=True, metadata={"enum": ["Feature"]})
    id = fields.Int(required=True)
    geometry = fields.Raw(required=True, metadata={"type": "object"})
    properties = fields.Nested(WorkPropertiesOutSchema, required=True)


class LinkSchema(Schema):
    href = fields.Str(required=True)
    rel = fields.Str(required=True)
    type = fields.Str()


class WorkCollectionSchema(Schema):
    type = fields.Str(required=True, metadata={"enum": ["FeatureCollection"]})
    features = fields.List(fields.Nested(WorkFeatureOutSchema), required=True)
    numberMatched = fields.Int(required=True)  # the OGC API names
    numberReturned = fields.Int(required=True)
    links = fields.List(fields.Nested(LinkSchema), required=True)


class WorkQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    bbox = Text(
        validate=validate.Regexp(r"^-?[0-9.]+,-?[0-9.]+,-?[0-9.]+,-?[0-9.]+$"),
        metadata={"description": "minlon,minlat,maxlon,maxlat (EPSG:4326)"},
    )
    start = fields.Date(metadata={"description": "works that are still going on at this date"})
    end = fields.Date(metadata={"description": "works that have started by this date"})
    discipline = Text(metadata={"description": "one or more codes, comma separated"})
    phase = Text(metadata={"description": "one or more codes, comma separated"})
    organisation = fields.Int(validate=validate.Range(min=1, max=2**62))
    q = Text(validate=validate.Length(max=200), metadata={"description": "text search"})
    limit = fields.Int(load_default=100, validate=validate.Range(min=1, max=1000))
    offset = fields.Int(load_default=0, validate=validate.Range(min=0, max=10_000_000))


class CrsQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    crs = Text(
        validate=validate.Length(max=200),
        metadata={
            "description": "the CRS of the geometry sent, e.g. EPSG:28992 "
            "(default EPSG:4326, GeoJSON's own)"
        },
    )


class HistoryEntrySchema(Schema):
    version = fields.Int(required=True)
    action = fields.Str(required=True)
    actor = fields.Str(required=True)
    changed_at = fields.DateTime(required=True)
    changes = fields.Raw(required=True, metadata={"type": "object"})


def problem_responses(blp, *statuses: int):
    """Document the problem responses an operation can give (RFC 9457 bodies)."""

    def decorate(fn):
        for status in statuses:
            fn = blp.alt_response(
                status,
                schema=ProblemSchema,
                description="problem",
                content_type="application/problem+json",
            )(fn)
        return fn

    return decorate
