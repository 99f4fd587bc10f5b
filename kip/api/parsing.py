"""How the API reads a request: every blueprint of ``/api/v1`` parses its arguments here.

webargs' parser, with two additions for every JSON body the API takes, in this one place:

* a body larger than any honest one (:func:`json_body_limit`) is refused before it is
  parsed - a line of a million vertices is 25 MB of JSON, and parsing it took longer than
  refusing it should;
* JSON nested deeper than Python's parser goes (it gives up with a RecursionError, at
  about 1,000 levels) is a bad request with a message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import flask_smorest
from flask import Request, current_app
from marshmallow import Schema
from shapely.geometry.base import BaseGeometry
from webargs.flaskparser import FlaskParser, is_json_request

from .. import geo
from ..db import bound_srid
from ..errors import KipError, ValidationError
from ..io import geometry as intake

# What a JSON body may hold besides its geometry (the properties, the GeoJSON around it),
# and what one vertex takes written out, with room to spare ([-179.1234567, -89.1234567],
# indented): the most a body may be follows from GEOMETRY_MAX_VERTICES.
FIELDS_BYTES = 1_000_000
VERTEX_BYTES = 100


def json_body_limit(config: Mapping[str, Any]) -> int:
    """The most bytes a JSON body may have: 3 MB with the default 20,000 vertices.

    >>> json_body_limit({"GEOMETRY_MAX_VERTICES": 20_000})
    3000000
    """
    return FIELDS_BYTES + VERTEX_BYTES * int(config["GEOMETRY_MAX_VERTICES"])


class BodyTooLarge(KipError):
    status = 413
    code = "body-too-large"


class TooDeep(KipError):
    code = "nested-too-deep"


class JsonParser(FlaskParser):
    def load_json(self, req: Request, schema: Schema) -> Any:
        if is_json_request(req):
            limit = json_body_limit(current_app.config)
            size = req.content_length
            if size is None or size <= limit:  # a chunked body is measured when read
                size = len(req.get_data(cache=True))
            if size > limit:
                raise BodyTooLarge(
                    f"the JSON body is {size / 1e6:.1f} MB, more than the {limit / 1e6:.1f} MB "
                    f"a request may send (1 MB and {VERTEX_BYTES} bytes for each vertex "
                    "GEOMETRY_MAX_VERTICES allows)",
                    errors={"json": "too large"},
                )
        try:
            return super().load_json(req, schema)
        except RecursionError:
            raise TooDeep(
                "the JSON body is nested too deeply to read; GeoJSON needs four levels of "
                "arrays at most",
                errors={"json": "nested too deeply"},
            ) from None


class Blueprint(flask_smorest.Blueprint):
    """A flask-smorest blueprint that reads its arguments with :class:`JsonParser`."""

    ARGUMENTS_PARSER = JsonParser()


def geometry_in_project_crs(geometry: dict[str, Any], crs_text: str | None) -> BaseGeometry:
    """A request's GeoJSON geometry (in the CRS of the ``crs`` parameter, EPSG:4326 if
    none) through KIP's one geometry intake (:func:`kip.io.geometry.geometry_in_project_crs`),
    with the deployment's region and vertex limit; a problem is a 422 naming the field
    (``geometry`` or ``crs``)."""
    try:
        return intake.geometry_in_project_crs(
            geometry,
            crs_text,
            srid=bound_srid(),
            region_bbox=current_app.config["REGION_BBOX"],
            max_vertices=current_app.config["GEOMETRY_MAX_VERTICES"],
        )
    except geo.GeometryProblem as problem:
        raise ValidationError(
            f"{problem.field}: {problem}", errors={problem.field: problem.short}
        ) from None
