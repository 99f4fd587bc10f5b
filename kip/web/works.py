"""A work's own page (what, who, where, when, and its history) and the form to draw and
describe a work."""

from __future__ import annotations

from dataclasses import fields

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from .. import db, geo, maps, policy
from ..actors import Actor
from ..db import bound_srid
from ..errors import KipError, NotFound, StaleVersion, ValidationError
from ..models import Discipline, Organisation, Precision, TrafficImpact, Visibility, Work
from ..security import csp_nonce, current_actor
from ..services import mapdata, works
from ..services.accounts import actor_for_user
from .forms import ConfirmForm, WorkForm, show_service_errors, show_stale_version

bp = Blueprint("works", __name__, url_prefix="/works")

# The service's per-field problems, in words a planner reads (and that are translated).
_SERVICE_ERRORS = {
    "title": _l("Give a title of at most 200 characters."),
    "discipline": _l("Choose a discipline from the list."),
    "phase": _l("Choose a phase from the list."),
    "end_date": _l("The end date is before the start date."),
    "start_date": _l("Give a valid start date."),
    "geometry": _l(
        "This shape cannot be stored: it is empty or not valid (for example an area whose "
        "edges cross). Draw it again."
    ),
    "budget": _l("A budget cannot be negative."),
}


def _may_edit(actor: Actor, work: Work) -> bool:
    if work.is_deleted or actor.token_id is not None:
        return False
    try:
        policy.require_edit_rights(actor, work.organisation_id)
    except KipError:
        return False
    return True


@bp.app_context_processor
def _work_links() -> dict[str, bool]:
    """Whether the header offers "new work": a logged-in planner or coordinator."""
    if not current_user.is_authenticated:
        return {"may_create_works": False}
    return {"may_create_works": policy.can_write(actor_for_user(current_user.user))}


@bp.get("/<int:work_id>")
def show(work_id: int) -> str:
    actor = current_actor()
    work = works.get_visible_work(db.session(), actor, work_id)
    history = works.history(db.session(), work) if policy.is_partner(actor) else []
    return render_template(
        "works/show.html",
        work=work,
        map=_work_map(actor, work),
        history=history,
        can_restore=work.deleted_at is not None and policy.is_coordinator(actor),
        can_edit=_may_edit(actor, work),
        confirm=ConfirmForm(),
    )


def _work_map(actor: Actor, work: Work) -> maps.MapParts:
    """The small map of the work and the works around it that ``actor`` may see."""
    session = db.session()
    colours = {
        code: colour for code, colour in session.execute(select(Discipline.code, Discipline.colour))
    }
    m = maps.work_map(
        current_app.config,
        mapdata.work_geojson(session, work),
        mapdata.neighbours(session, actor, work),
        colours,
    )
    return maps.embed(m, csp_nonce())


@bp.post("/<int:work_id>/restore")
def restore(work_id: int) -> Response:
    actor = current_actor()
    policy.require_coordinator(actor)
    if ConfirmForm().validate_on_submit():
        work = works.get_visible_work(db.session(), actor, work_id)
        works.restore_work(db.session(), actor, work)
        flash(_("The work has been restored."))
    return redirect(url_for("works.show", work_id=work_id))


@bp.route("/new", methods=["GET", "POST"])
def new() -> Response | tuple[str, int]:
    actor = current_actor()
    policy.require_edit_rights(actor, actor.organisation_id)  # type: ignore[arg-type]
    form = WorkForm().fill_choices(db.session(), str(get_locale()))
    if form.validate_on_submit():
        try:
            work = works.create_work(
                db.session(),
                actor,
                actor.organisation_id,  # type: ignore[arg-type]
                _work_data(form),
            )
        except ValidationError as error:
            show_service_errors(form, error, _SERVICE_ERRORS)
        else:
            flash(_("The work has been saved."))
            return redirect(url_for("works.show", work_id=work.id))
    return _form_page(form, None)


@bp.route("/<int:work_id>/edit", methods=["GET", "POST"])
def edit(work_id: int) -> Response | tuple[str, int]:
    actor = current_actor()
    policy.require_login(actor)
    work = works.get_visible_work(db.session(), actor, work_id)
    if work.is_deleted:
        raise NotFound(f"no work {work_id}")
    policy.require_edit_rights(actor, work.organisation_id)
    # On a POST only what was sent counts: a missing version is a stale one.
    values = _form_values(work) if request.method == "GET" else None
    form = WorkForm(data=values).fill_choices(db.session(), str(get_locale()))
    form.geometry.stored = geo.from_db(work.geom)
    status = None
    if form.validate_on_submit():
        try:
            works.update_work(db.session(), actor, work, _work_data(form), form.version.data or 0)
        except ValidationError as error:
            show_service_errors(form, error, _SERVICE_ERRORS)
        except StaleVersion as error:
            status = 409
            show_stale_version(
                form,
                error,
                _(
                    "Somebody else saved this work while you were editing it. Your changes "
                    "are not saved yet: compare them with the current work, then save again "
                    "to replace that version with yours."
                ),
            )
        else:
            flash(_("The work has been saved."))
            return redirect(url_for("works.show", work_id=work.id))
    return _form_page(form, work, status=status)


def _form_page(form: WorkForm, work: Work | None, status: int | None = None) -> tuple[str, int]:
    m = maps.base_map(current_app.config)
    maps.draw_control(m)
    page = render_template(
        "works/form.html",
        form=form,
        work=work,
        organisation=work.organisation
        if work
        else db.session().get(Organisation, current_actor().organisation_id),
        map=maps.embed(m, csp_nonce()),
    )
    return page, status or (422 if form.errors else 200)


def _work_data(form: WorkForm) -> works.WorkData:
    return works.WorkData(
        title=form.title.data or "",
        description=form.description.data or "",
        discipline=form.discipline.data,
        phase=form.phase.data,
        geometry=form.geometry.project,
        start_date=form.start_date.data,
        end_date=form.end_date.data,
        precision=Precision(form.precision.data),
        excavation=bool(form.excavation.data),
        traffic_impact=TrafficImpact(form.traffic_impact.data),
        visibility=Visibility(form.visibility.data),
        external_ref=form.external_ref.data or None,
        contact_name=form.contact_name.data or None,
        contact_email=form.contact_email.data or None,
        contact_phone=form.contact_phone.data or None,
        budget=form.budget.data,
        tags=form.tag_list(),
    )


def _form_values(work: Work) -> dict:
    """The form's values for an existing work (geometry in EPSG:4326 for the map)."""
    data = works.data_of(work)
    values = {f.name: getattr(data, f.name) for f in fields(data)}
    for name in ("precision", "traffic_impact", "visibility"):
        values[name] = getattr(values[name], "value", values[name])
    values["tags"] = ", ".join(values["tags"])
    values["geometry"] = geo.reproject(values["geometry"], bound_srid(), 4326)
    values["version"] = work.version
    return values
