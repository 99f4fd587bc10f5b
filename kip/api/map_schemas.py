"""Request and response shapes of ``/api/v1/map/works`` (compact GeoJSON for maps)."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from ..services.mapdata import DEFAULT_LIMIT, DETAIL_ZOOM, MAX_LIMIT
from .schemas import Text


class MapWorkQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    bbox = Text(
        validate=validate.Regexp(r"^-?[0-9.]+,-?[0-9.]+,-?[0-9.]+,-?[0-9.]+$"),
        metadata={"description": "minlon,minlat,maxlon,maxlat (EPSG:4326): the map's view"},
    )
    start = fields.Date(metadata={"description": "works still going on at this date"})
    end = fields.Date(metadata={"description": "works that have started by this date"})
    zoom = fields.Int(
        load_default=13,
        validate=validate.Range(min=0, max=22),
        metadata={
            "description": f"the map's zoom level: below {DETAIL_ZOOM} one point per work, "
            "from there the geometry simplified to the zoom"
        },
    )
    discipline = Text(metadata={"description": "one or more codes, comma separated"})
    organisation = fields.Int(validate=validate.Range(min=1, max=2**62))
    public = fields.Bool(
        load_default=False,
        metadata={"description": "only what the public sees, whoever asks (the public map)"},
    )
    limit = fields.Int(load_default=DEFAULT_LIMIT, validate=validate.Range(min=1, max=MAX_LIMIT))


class MapContactSchema(Schema):
    name = fields.Str()
    email = fields.Str()
    phone = fields.Str()


class MapWorkPropertiesSchema(Schema):
    title = fields.Str(required=True)
    discipline = fields.Str(required=True)
    organisation = fields.Str(required=True)
    organisation_id = fields.Int(required=True)
    start = fields.Date(required=True)
    end = fields.Date(required=True)
    excavation = fields.Bool(required=True)
    traffic = fields.Str(required=True, metadata={"enum": ["none", "lane", "closure"]})
    contact = fields.Nested(MapContactSchema, required=True)


class MapWorkFeatureSchema(Schema):
    type = fields.Str(required=True, metadata={"enum": ["Feature"]})
    id = fields.Int(required=True)
    geometry = fields.Raw(required=True, metadata={"type": "object"})
    properties = fields.Nested(MapWorkPropertiesSchema, required=True)


class MapWorkCollectionSchema(Schema):
    type = fields.Str(required=True, metadata={"enum": ["FeatureCollection"]})
    features = fields.List(fields.Nested(MapWorkFeatureSchema), required=True)
    numberReturned = fields.Int(required=True)
    truncated = fields.Bool(
        required=True, metadata={"description": "more works match: zoom in or shorten the period"}
    )
    detail = fields.Str(
        required=True,
        metadata={"enum": ["point", "shape"], "description": "a point per work, or its shape"},
    )
