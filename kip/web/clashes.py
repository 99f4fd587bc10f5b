"""The clash report (``/clashes``, ``/clashes/<id>``); dig bans are in :mod:`kip.web.digbans`.

For partners who are logged in (or send a token): a planner sees the clashes of the works
they may see - by default those of their own organisation - with what they may not see of
the other side left out (:mod:`kip.services.clashes`); a coordinator sees everything and
reviews. A clash's page has a small map (:mod:`kip.maps`): where the two meet, with the
sides the viewer may see; of a redacted clash, their own work only.
"""

from __future__ import annotations

import json
from datetime import date

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response
from wtforms import BooleanField, DateField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from .. import db, maps, policy
from ..errors import KipError
from ..models import REVIEW_STATUSES, ClashKind, ClashStatus, Discipline
from ..security import csp_nonce, current_actor
from ..services import clashes as service
from ..services import mapdata
from ..services.organisations import list_organisations

bp = Blueprint("clashes", __name__)

PER_PAGE = 50
FILTERS = {"kind", "status", "organisation", "discipline", "start", "end"}
EARLIEST, LATEST = date(1, 1, 1), date(9999, 12, 31)
KIND_LABELS = {
    "conflict": _l("conflict"),
    "opportunity": _l("chance to combine"),
    "violation": _l("dig ban violated"),
}
STATUS_LABELS = {
    "open": _l("open"),
    "combine": _l("combine"),
    "accepted": _l("accepted"),
    "dismissed": _l("dismissed"),
    "resolved": _l("resolved"),
}


class FilterForm(FlaskForm):
    """The list's filters, read from the query string (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    kind = SelectField(_l("Kind"), validators=[Optional()])
    status = SelectField(_l("Status"), validators=[Optional()])
    organisation = SelectField(_l("Organisation"), validators=[Optional()])
    discipline = SelectField(_l("Discipline"), validators=[Optional()])
    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("Until"), validators=[Optional()])


class ReviewForm(FlaskForm):
    status = SelectField(_l("Decision"), validators=[DataRequired()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=10_000)])
    disclosed = BooleanField(_l("Show both works in full to the partners involved"))


def _choices(labels: dict) -> list[tuple[str, str]]:
    return [("", _("all"))] + [(k, str(v)) for k, v in labels.items()]


def _filter_form() -> FilterForm:
    session = db.session()
    form = FilterForm(formdata=request.args)
    form.kind.choices = _choices({k.value: KIND_LABELS[k.value] for k in ClashKind})
    form.status.choices = _choices({s.value: STATUS_LABELS[s.value] for s in ClashStatus})
    form.organisation.choices = [("", _("all"))] + [
        (str(org.id), org.name) for org, _n in list_organisations(session)
    ]
    disciplines = session.execute(
        Discipline.__table__.select().order_by(Discipline.sort_order)
    ).all()
    form.discipline.choices = [("", _("all"))] + [(d.code, d.code) for d in disciplines]
    return form


def _review_form() -> ReviewForm:
    form = ReviewForm()
    form.status.choices = [(s.value, str(STATUS_LABELS[s.value])) for s in REVIEW_STATUSES]
    return form


@bp.get("/clashes")
def index() -> str | tuple[str, int]:
    actor = current_actor()
    policy.require_login(actor)
    form = _filter_form()
    chosen = FILTERS & request.args.keys()  # a page number or language chooses nothing
    if not chosen and actor.organisation_id and not policy.is_coordinator(actor):
        form.organisation.data = str(actor.organisation_id)  # a planner's own, by default
    status = 200
    filters = service.ClashFilters()
    if form.validate():
        start, end = form.start.data, form.end.data
        filters = service.ClashFilters(
            kind=form.kind.data or None,
            status=form.status.data or None,
            organisation_id=int(form.organisation.data) if form.organisation.data else None,
            discipline=form.discipline.data or None,
            period=(start or EARLIEST, end or LATEST) if start or end else None,
        )
    else:
        status = 422
    page = max(1, request.args.get("page", 1, type=int) or 1)
    try:
        result = service.list_clashes(
            db.session(), actor, filters, limit=PER_PAGE, offset=(page - 1) * PER_PAGE
        )
    except KipError as error:
        form.end.errors = [*form.end.errors, error.message]
        result, status = service.Page([], 0, PER_PAGE, 0), error.status
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template(
        "clashes/index.html",
        form=form,
        result=result,
        page=page,
        args=args,
        more=page * PER_PAGE < result.total,
        kinds=KIND_LABELS,
        statuses=STATUS_LABELS,
    ), status


@bp.get("/clashes/<int:clash_id>")
def show(clash_id: int) -> str:
    actor = current_actor()
    session = db.session()
    view = service.get_clash(session, actor, clash_id)
    form = None
    if policy.is_coordinator(actor) and view.clash.status is not ClashStatus.RESOLVED:
        form = _review_form()
        form.status.data = view.clash.status.value
        form.note.data = view.clash.review_note
        form.disclosed.data = view.clash.disclosed
    return render_template(
        "clashes/show.html",
        view=view,
        map=_clash_map(session, view),
        clash=view.clash,
        history=service.clash_history(session, actor, clash_id),
        form=form,
        kinds=KIND_LABELS,
        statuses=STATUS_LABELS,
    )


@bp.post("/clashes/<int:clash_id>/review")
def review(clash_id: int) -> Response:
    actor = current_actor()
    policy.require_coordinator(actor)
    form = _review_form()
    if form.validate_on_submit():
        try:
            service.review_clash(
                db.session(), actor, clash_id, form.status.data, form.note.data or ""
            )
            service.disclose_clash(db.session(), actor, clash_id, bool(form.disclosed.data))
        except KipError as error:
            if error.status != 409:
                raise
            flash(error.message)
        else:
            flash(_("Your decision has been saved."))
    else:
        flash(_("Choose a decision."))
    return redirect(url_for("clashes.show", clash_id=clash_id))


def _clash_map(session: Session, view: service.ClashView) -> maps.MapParts | None:
    """Where the two meet (red) with the sides the viewer may see, coloured by discipline."""
    sides = [
        {
            "type": "Feature",
            "geometry": mapdata.work_geojson(session, work),
            "properties": {
                "title": work.title,
                "organisation": work.organisation.name,
                "discipline": work.discipline_code,
            },
        }
        for work in (view.work_a, view.work_b)
        if work is not None
    ]
    focus = json.loads(view.meeting) if view.meeting else (sides[0]["geometry"] if sides else None)
    if focus is None:
        return None
    colours = dict(session.execute(select(Discipline.code, Discipline.colour)).all())
    m = maps.work_map(current_app.config, focus, sides, colours)
    return maps.embed(m, csp_nonce())
