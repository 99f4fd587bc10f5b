"""The forms of KIP's pages (Flask-WTF: CSRF protection and field messages built in)."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import format_date, format_number
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from shapely.geometry import mapping
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

from .. import dates, db, geo, work_fields
from ..db import bound_srid
from ..errors import StaleVersion, ValidationError
from ..io import geometry as intake
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
    every way in asks), else a message on the field that says the range. The date input
    carries the range too (``min``/``max``), so the browser's date picker offers only those
    days."""

    @property
    def field_flags(self) -> dict[str, str]:
        days = dates.allowed(db.session())
        return {"min": days.first.isoformat(), "max": days.last.isoformat()}

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


def _at_most(name: str) -> Length:
    """The most characters of a work's text field (:data:`kip.work_fields.TEXT_LENGTHS`)."""
    return Length(max=work_fields.TEXT_LENGTHS[name])


class KeptBudget:
    """A budget KIP keeps (:func:`kip.work_fields.budget_problem`)."""

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if field.data is not None and work_fields.budget_problem(field.data):
            raise StopValidation(
                _(
                    "Give a budget from 0 up to %(most)s euros.",
                    most=format_number(work_fields.BUDGET_BELOW - Decimal("0.01")),
                )
            )


class KeptTags:
    """Tags KIP keeps (:func:`kip.work_fields.tag_problem`): how many, and how long."""

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if work_fields.tag_problem(tag_list(field.data)):
            raise StopValidation(
                _(
                    "Give at most %(count)s tags, each of at most %(length)s characters.",
                    count=work_fields.TAG_COUNT,
                    length=work_fields.TAG_LENGTH,
                )
            )


# -- Geometries drawn on a map (the work and dig-ban forms) -----------------------------------


def geometry_to_geojson(geom: BaseGeometry) -> str:
    """GeoJSON text of a shapely geometry (EPSG:4326), for the form's hidden field."""
    return json.dumps(mapping(geom))


# What a form says for each reason of a :class:`kip.geo.GeometryProblem`; a reason without
# its own words is said as the one in ``SAID_AS``.
SAID_AS = {"swapped": "outside", "empty": "invalid", "crs": "invalid"}

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
    "invalid": _l(
        "This shape cannot be stored: it is empty or not valid (for example an area whose "
        "edges cross). Draw it again."
    ),
}


class GeometryField(Field):
    """The drawn geometry, as GeoJSON in EPSG:4326 in a hidden input, through KIP's one
    geometry intake (:mod:`kip.io.geometry`).

    ``data`` is the drawing, a shapely geometry in EPSG:4326 (or None); the raw text is
    sent back as it came, so a page shown again keeps what was drawn. Once the form is
    validated, ``project`` is the drawing checked (kind, size, region, validity) and in the
    project CRS: what is saved. An edit form sets ``stored`` (the geometry saved, in the
    project CRS) first, so that a drawing left untouched is saved as it was. ``kinds`` are
    the shapes the field takes, and ``messages`` what to say for each problem's reason.
    """

    widget = HiddenInput()

    def __init__(
        self,
        label: str | None = None,
        validators: Any = None,
        *,
        kinds: Collection[str] = intake.ANY_KIND,
        messages: Mapping[str, Any] = WORK_SHAPES,
        **kwargs: Any,
    ) -> None:
        super().__init__(label, validators, **kwargs)
        self.kinds, self.messages = frozenset(kinds), messages
        self.project: BaseGeometry | None = None
        self.stored: BaseGeometry | None = None

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return geometry_to_geojson(self.data) if self.data is not None else ""

    def _say(self, problem: geo.GeometryProblem) -> str:
        reason = problem.reason if problem.reason in self.messages else None
        message = self.messages[reason or SAID_AS.get(problem.reason, "invalid")]
        return str(message) % {"limit": format_number(_max_vertices())}

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = None
        text = (valuelist[0] if valuelist else "").strip()
        if not text:
            return
        try:
            self.data = intake.read_geojson(text, self.kinds)
        except geo.GeometryProblem as problem:
            raise ValueError(self._say(problem)) from None

    def pre_validate(self, form: Any) -> None:
        self.project = None
        if self.data is None:
            if not self.process_errors:
                raise StopValidation(str(self.messages["missing"]))
            return
        try:
            self.project = intake.to_project_crs(
                self.data,
                intake.WGS84,
                srid=bound_srid(),
                region_bbox=current_app.config["REGION_BBOX"],
                max_vertices=_max_vertices(),
                stored=self.stored,
            )
        except geo.GeometryProblem as problem:
            raise StopValidation(self._say(problem)) from None


def _max_vertices() -> int:
    return int(current_app.config["GEOMETRY_MAX_VERTICES"])


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
    """A work's fields as a planner fills them in; what each may hold is
    :mod:`kip.work_fields`."""

    title = StringField(_l("Title"), validators=[DataRequired(), _at_most("title")])
    description = TextAreaField(_l("Description"), validators=[_at_most("description")])
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
        _l("Reference in your own system"), validators=[Optional(), _at_most("external_ref")]
    )
    contact_name = StringField(
        _l("Contact person"), validators=[Optional(), _at_most("contact_name")]
    )
    contact_email = EmailField(
        _l("Contact e-mail"),
        validators=[
            Optional(),
            _at_most("contact_email"),
            Regexp(
                r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("Give an address like name@example.org.")
            ),
        ],
    )
    contact_phone = StringField(
        _l("Contact phone"), validators=[Optional(), _at_most("contact_phone")]
    )
    budget = DecimalField(_l("Budget (EUR)"), places=2, validators=[Optional(), KeptBudget()])
    tags = StringField(
        _l("Programmes and themes (comma-separated)"), validators=[Optional(), KeptTags()]
    )
    geometry = GeometryField(_l("Where"))
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
        return tag_list(self.tags.data)


def tag_list(text: str | None) -> list[str]:
    """The tags of the form's comma-separated field.

    >>> tag_list(" energy, ,climate ")
    ['energy', 'climate']
    """
    return [t.strip() for t in (text or "").split(",") if t.strip()]


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
    "invalid": _l(
        "This area cannot be stored: it is not valid (for example its edges cross, or two "
        "areas overlap). Draw it again."
    ),
}


class DigBanForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    reason = TextAreaField(_l("Reason"), validators=[Length(max=10_000)])
    start_date = DateField(
        _l("First day"), validators=[InputRequired(_l("Give a date.")), KeptDate()]
    )
    end_date = DateField(_l("Last day"), validators=[InputRequired(_l("Give a date.")), KeptDate()])
    geometry = GeometryField(_l("Area"), kinds={"Polygon"}, messages=DIG_BAN_SHAPES)
    # The version the form was loaded with: saving a newer one is refused (optimistic locking).
    version = IntegerField(widget=HiddenInput(), validators=[Optional()])


class VersionForm(FlaskForm):
    """A POST button that acts on the version of a record the page showed (end a dig ban)."""

    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
