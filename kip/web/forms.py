"""The forms of KIP's pages (Flask-WTF: CSRF protection and field messages built in)."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from datetime import date, timedelta
from typing import Any

import numpy as np
import shapely
from flask import current_app
from flask_babel import format_date, format_number
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    Field,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    StopValidation,
)
from wtforms.widgets import HiddenInput

from .. import dates, db, geo
from ..errors import StaleVersion, ValidationError
from ..models import Discipline, Phase, Precision, TrafficImpact, Visibility


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=320)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Stay logged in on this device"))


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(min=10, max=200)]
    )
    repeat = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("new_password", _l("The passwords differ."))],
    )


class ResetRequestForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=320)])


class ResetForm(FlaskForm):
    new_password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(min=10, max=200)]
    )
    repeat = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("new_password", _l("The passwords differ."))],
    )


class OrganisationForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Kind"), validators=[DataRequired()])
    contact_email = EmailField(_l("Contact e-mail"), validators=[Length(max=320)])


class UserForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=320)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    organisation = SelectField(_l("Organisation"), coerce=int, validators=[DataRequired()])
    role = SelectField(_l("Role"), validators=[DataRequired()])
    password = PasswordField(
        _l("Initial password"), validators=[DataRequired(), Length(min=10, max=200)]
    )


class TokenForm(FlaskForm):
    organisation = SelectField(_l("Organisation"), coerce=int, validators=[DataRequired()])
    scope = SelectField(_l("Scope"), validators=[DataRequired()])
    name = StringField(_l("Name"), validators=[Length(max=200)])
    days = IntegerField(
        _l("Valid for (days)"), default=365, validators=[DataRequired(), NumberRange(1, 3650)]
    )


class ConfirmForm(FlaskForm):
    """An empty form: a POST button with its CSRF token (log out, revoke, restore)."""


class KeptDate:
    """A day KIP keeps: within the deployment's range of dates (:mod:`kip.dates`, the rule
    every way in asks), else a message on the field that says the range."""

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if field.data is None:
            return
        days = dates.allowed(db.session())
        if days.problems(**{field.name: field.data}):
            raise StopValidation(
                _(
                    "Give a date from %(first)s to %(last)s.",
                    first=format_date(days.first, "long"),
                    last=format_date(days.last, "long"),
                )
            )


# -- Geometries drawn on a map (the work and dig-ban forms) -----------------------------------

_MULTI = {"Point": "MultiPoint", "LineString": "MultiLineString", "Polygon": "MultiPolygon"}
_SINGLE = {multi: single for single, multi in _MULTI.items()}
ANY_KIND = frozenset(_MULTI)


class GeometryProblem(ValueError):
    """The drawn geometry cannot be used; ``reason`` is ``"unreadable"``, ``"missing"``
    (nothing drawn) or ``"kind"`` (mixed kinds, or a kind the form does not take)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def geometry_from_geojson(text: str, kinds: Collection[str] = ANY_KIND) -> BaseGeometry:
    """One geometry from GeoJSON: a geometry, a Feature or a FeatureCollection.

    Several shapes of one kind become one multi-part geometry; shapes of different kinds
    are refused (a work is points, lines or polygons), and so are kinds not in ``kinds``.

    >>> geometry_from_geojson('{"type": "FeatureCollection", "features": ['
    ...     '{"type": "Feature", "geometry": {"type": "Point", "coordinates": [5, 52]}},'
    ...     '{"type": "Feature", "geometry": {"type": "Point", "coordinates": [6, 52]}}]}').wkt
    'MULTIPOINT ((5 52), (6 52))'
    >>> geometry_from_geojson('{"type": "Point", "coordinates": [5, 52]}').wkt
    'POINT (5 52)'
    >>> geometry_from_geojson('{"type": "Point", "coordinates": [5, 52]}', {"Polygon"})
    Traceback (most recent call last):
    ...
    kip.web.forms.GeometryProblem: kind
    """
    try:
        data = json.loads(text)
        parts = _parts(data)
    except (
        ValueError,
        TypeError,
        KeyError,
        AttributeError,
        RecursionError,  # JSON nested deeper than Python's parser goes
        shapely.errors.GEOSException,
    ):
        raise GeometryProblem("unreadable") from None
    parts = [p for p in parts if not p.is_empty]
    if not parts:
        raise GeometryProblem("missing")
    found = {_SINGLE.get(p.geom_type, p.geom_type) for p in parts}
    if len(found) > 1 or not found <= set(kinds):
        raise GeometryProblem("kind")
    if len(parts) == 1:
        return parts[0]
    return _combine(parts)


def _combine(parts: list[BaseGeometry]) -> BaseGeometry:
    singles: list[BaseGeometry] = []
    for part in parts:
        singles.extend(part.geoms if part.geom_type in _SINGLE else [part])
    kind = singles[0].geom_type
    return getattr(shapely, _MULTI[kind])(singles)


def _parts(data: dict[str, Any]) -> list[BaseGeometry]:
    kind = data["type"]
    if kind == "FeatureCollection":
        return [g for feature in data["features"] for g in _parts(feature)]
    if kind == "Feature":
        return _parts(data["geometry"]) if data["geometry"] else []
    if kind == "GeometryCollection":
        return [g for member in data["geometries"] for g in _parts(member)]
    return [shape(data)]


def geometry_to_geojson(geom: BaseGeometry) -> str:
    """GeoJSON text of a shapely geometry (EPSG:4326), for the form's hidden field."""
    return json.dumps(mapping(geom))


WORK_SHAPES = {
    "unreadable": _l("The drawn shape could not be read. Draw it again."),
    "missing": _l("Draw the work on the map: a point, a line or an area."),
    "kind": _l(
        "Draw shapes of one kind only: points, lines or areas. Several shapes of "
        "one kind together make one work."
    ),
    "outside": _l("The work lies outside the region KIP covers. Draw it where it will be done."),
    "too_many": _l(
        "The drawn shape has more points than KIP takes (at most %(limit)s). Simplify it, "
        "or split the work."
    ),
}


class GeometryField(Field):
    """The drawn geometry, as GeoJSON in EPSG:4326 in a hidden input.

    ``data`` is a shapely geometry (or None); the raw text is sent back as it came, so a
    page shown again keeps what was drawn. ``kinds`` are the shapes the field takes,
    ``messages`` what to say for each :class:`GeometryProblem` reason, and ``region``
    whether the shapes must lie inside the deployment's ``REGION_BBOX`` (message
    ``"outside"``). A drawing of more vertices than ``GEOMETRY_MAX_VERTICES`` is refused
    at once (message ``"too_many"``).
    """

    widget = HiddenInput()

    def __init__(
        self,
        label: str | None = None,
        validators: Any = None,
        *,
        kinds: Collection[str] = ANY_KIND,
        messages: Mapping[str, Any] = WORK_SHAPES,
        region: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(label, validators, **kwargs)
        self.kinds, self.messages, self.region = frozenset(kinds), messages, region

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return geometry_to_geojson(self.data) if self.data is not None else ""

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = None
        text = (valuelist[0] if valuelist else "").strip()
        if not text:
            return
        try:
            drawn = geometry_from_geojson(text, self.kinds)
        except GeometryProblem as problem:
            raise ValueError(str(self.messages[problem.reason])) from None
        limit = current_app.config["GEOMETRY_MAX_VERTICES"]
        if geo.too_many_vertices(np.array([drawn], dtype=object), limit):
            raise ValueError(str(self.messages["too_many"]) % {"limit": format_number(limit)})
        self.data = drawn

    def pre_validate(self, form: Any) -> None:
        if self.data is None and not self.process_errors:
            raise StopValidation(str(self.messages["missing"]))
        if self.region and self.data is not None and not self._in_region(self.data):
            raise StopValidation(str(self.messages["outside"]))

    @staticmethod
    def _in_region(geom: BaseGeometry) -> bool:
        return shapely.box(*current_app.config["REGION_BBOX"]).covers(geom)


def _choices(enum_labels: dict[Any, Any]) -> list[SelectChoice]:
    return [SelectChoice(member.value, label) for member, label in enum_labels.items()]


PRECISIONS = {
    Precision.DAY: _l("to the day"),
    Precision.MONTH: _l("to the month"),
    Precision.QUARTER: _l("to the quarter"),
    Precision.YEAR: _l("to the year"),
}
TRAFFIC_IMPACTS = {
    TrafficImpact.NONE: _l("none"),
    TrafficImpact.LANE: _l("a lane closed"),
    TrafficImpact.CLOSURE: _l("road closed"),
}
VISIBILITIES = {
    Visibility.PUBLIC: _l("public (residents see it once it is planned)"),
    Visibility.PARTNERS: _l("partners (logged-in users)"),
    Visibility.CONFIDENTIAL: _l("confidential (own organisation and coordinators)"),
}


# -- The work form ---------------------------------------------------------------------------


class WorkForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Length(max=5000)])
    discipline = SelectField(_l("Discipline"), validators=[DataRequired()])
    phase = SelectField(_l("Phase"), default="design", validators=[DataRequired()])
    start_date = DateField(
        _l("Start"),
        default=date.today,
        validators=[InputRequired(_l("Give a date.")), KeptDate()],
    )
    end_date = DateField(
        _l("End"),
        default=lambda: date.today() + timedelta(weeks=4),
        validators=[InputRequired(_l("Give a date.")), KeptDate()],
    )
    precision = SelectField(
        _l("Period known"), choices=_choices(PRECISIONS), default=Precision.DAY.value
    )
    excavation = BooleanField(_l("Opens the ground (excavation)"))
    traffic_impact = SelectField(
        _l("Hindrance to traffic"),
        choices=_choices(TRAFFIC_IMPACTS),
        default=TrafficImpact.NONE.value,
    )
    visibility = SelectField(
        _l("Who may see it"), choices=_choices(VISIBILITIES), default=Visibility.PARTNERS.value
    )
    external_ref = StringField(
        _l("Reference in your own system"), validators=[Optional(), Length(max=200)]
    )
    contact_name = StringField(_l("Contact person"), validators=[Optional(), Length(max=200)])
    contact_email = EmailField(
        _l("Contact e-mail"),
        validators=[
            Optional(),
            Length(max=320),
            Regexp(
                r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("Give an address like name@example.org.")
            ),
        ],
    )
    contact_phone = StringField(_l("Contact phone"), validators=[Optional(), Length(max=50)])
    budget = DecimalField(_l("Budget (EUR)"), places=2, validators=[Optional(), NumberRange(min=0)])
    tags = StringField(
        _l("Programmes and themes (comma-separated)"), validators=[Optional(), Length(max=500)]
    )
    geometry = GeometryField(_l("Where"), region=True)
    # The version the form was loaded with: saving a newer one is refused (optimistic locking).
    version = IntegerField(widget=HiddenInput(), validators=[Optional()])

    def fill_choices(self, session: Session, locale: str) -> WorkForm:
        """Offer the active disciplines and phases, labelled in ``locale``."""
        disciplines = session.execute(
            select(Discipline).where(Discipline.active).order_by(Discipline.sort_order)
        ).scalars()
        self.discipline.choices = [SelectChoice("", _l("Choose a discipline"))] + [
            SelectChoice(d.code, d.label(locale)) for d in disciplines
        ]
        phases = session.execute(
            select(Phase).where(Phase.active).order_by(Phase.sort_order)
        ).scalars()
        self.phase.choices = [SelectChoice(p.code, p.label(locale)) for p in phases]
        return self

    def tag_list(self) -> list[str]:
        return [t.strip() for t in (self.tags.data or "").split(",") if t.strip()]


def show_service_errors(form: FlaskForm, error: ValidationError, messages: Mapping) -> None:
    """Put a service's per-field problems next to the fields, in the words of ``messages``
    (field name -> message); a problem without a field or a message goes above the form."""
    for name, message in error.details.get("errors", {}).items():
        field = getattr(form, name, None)
        if name in messages and field is not None:
            field.errors = [*field.errors, str(messages[name])]
        else:
            form.form_errors.append(f"{name}: {message}")


def show_stale_version(form: FlaskForm, error: StaleVersion, message: str) -> None:
    """Say above the form that somebody else saved first. The form then carries the current
    version, so that submitting it again saves this input over the other change."""
    current = error.details.get("current_version")
    if current is not None:
        form.version.data = current  # type: ignore[attr-defined]
        form.version.raw_data = [str(current)]  # type: ignore[attr-defined]
    form.form_errors.append(message)


# -- The dig-ban form ------------------------------------------------------------------------

DIG_BAN_SHAPES = {
    "unreadable": _l("The drawn shape could not be read. Draw it again."),
    "missing": _l("Draw the area of the dig ban on the map: a polygon or a rectangle."),
    "kind": _l("A dig ban is an area: draw polygons or rectangles only."),
    "outside": _l("The area lies outside the region KIP covers. Draw it where the works are."),
    "too_many": _l(
        "The drawn area has more points than KIP takes (at most %(limit)s). Simplify it."
    ),
}


class DigBanForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    reason = TextAreaField(_l("Reason"), validators=[Length(max=10_000)])
    start_date = DateField(
        _l("First day"), validators=[InputRequired(_l("Give a date.")), KeptDate()]
    )
    end_date = DateField(_l("Last day"), validators=[InputRequired(_l("Give a date.")), KeptDate()])
    geometry = GeometryField(_l("Area"), kinds={"Polygon"}, messages=DIG_BAN_SHAPES, region=True)
    # The version the form was loaded with: saving a newer one is refused (optimistic locking).
    version = IntegerField(widget=HiddenInput(), validators=[Optional()])


class VersionForm(FlaskForm):
    """A POST button that acts on the version of a record the page showed (end a dig ban)."""

    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
