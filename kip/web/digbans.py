"""The dig bans (``/digbans``): the list for partners; for coordinators the form to impose
or change a ban (its area drawn on a map), ending a ban today, and the proposals."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from .. import db, geo, maps
from ..db import bound_srid
from ..errors import Conflict, StaleVersion, ValidationError
from ..models import DigBan
from ..security import csp_nonce, current_actor
from ..services import digbans as bans
from .forms import (
    ConfirmForm,
    DigBanForm,
    VersionForm,
    show_service_errors,
    show_stale_version,
)

bp = Blueprint("digbans", __name__, url_prefix="/digbans")
END_PREFIX = "end"

# The service's per-field problems, in words a coordinator reads (and that are translated).
_SERVICE_ERRORS = {
    "title": _l("Give a title of at most 200 characters."),
    "end_date": _l("The end date is before the start date."),
    "geometry": _l(
        "This area cannot be stored: it is not valid (for example its edges cross, or two "
        "areas overlap). Draw it again."
    ),
}


@bp.get("")
def index() -> str:
    actor = current_actor()
    session = db.session()
    include_ended = bool(request.args.get("all"))
    found = bans.list_dig_bans(session, actor, include_ended=include_ended)
    proposals = []
    if bans.may_manage(actor):
        proposals = bans.pending_proposals(session, actor, current_app.config)
    return render_template(
        "digbans/index.html",
        bans=found,
        proposals=proposals,
        include_ended=include_ended,
        confirm=ConfirmForm(),
        may_manage=bans.may_manage(actor),
    )


@bp.post("/proposals/<int:work_id>/accept")
def accept_proposal(work_id: int) -> Response:
    actor = current_actor()
    bans.require_may_manage(actor)
    if ConfirmForm().validate_on_submit():
        ban = bans.accept_proposal(db.session(), actor, work_id, current_app.config)
        flash(_("Dig ban %(id)s created.", id=ban.id))
    return redirect(url_for("digbans.index"))


@bp.route("/new", methods=["GET", "POST"])
def new() -> Response | tuple[str, int]:
    actor = current_actor()
    bans.require_may_manage(actor)
    values = None
    if request.method == "GET":
        start, end = bans.default_period(settings=current_app.config)
        values = {"start_date": start, "end_date": end}
    form = DigBanForm(data=values)
    if form.validate_on_submit():
        data = bans.DigBanData(
            organisation_id=actor.organisation_id or 0,
            title=form.title.data or "",
            reason=form.reason.data or "",
            start_date=form.start_date.data,
            end_date=form.end_date.data,
            area=form.geometry.project,
        )
        try:
            bans.create_dig_ban(db.session(), actor, data)
        except ValidationError as error:
            show_service_errors(form, error, _SERVICE_ERRORS)
        else:
            flash(_("The dig ban has been saved."))
            return redirect(url_for("digbans.index"))
    return _form_page(form, None)


@bp.route("/<int:ban_id>/edit", methods=["GET", "POST"])
def edit(ban_id: int) -> Response | tuple[str, int]:
    actor = current_actor()
    bans.require_may_manage(actor)
    ban = bans.get_dig_ban(db.session(), actor, ban_id)
    # On a POST only what was sent counts: a missing version is a stale one.
    form = DigBanForm(data=_form_values(ban) if request.method == "GET" else None)
    form.geometry.stored = geo.from_db(ban.geom)
    status = None
    if form.validate_on_submit():
        try:
            bans.update_dig_ban(
                db.session(),
                actor,
                ban.id,
                form.version.data or 0,
                title=form.title.data or "",
                reason=form.reason.data or "",
                start_date=form.start_date.data,
                end_date=form.end_date.data,
                area=form.geometry.project,
            )
        except ValidationError as error:
            show_service_errors(form, error, _SERVICE_ERRORS)
        except StaleVersion as error:
            status = 409
            show_stale_version(
                form,
                error,
                _(
                    "Somebody else saved this dig ban while you were editing it. Your changes "
                    "are not saved yet: compare them with the list of dig bans, then save "
                    "again to replace that version with yours."
                ),
            )
        else:
            flash(_("The dig ban has been saved."))
            return redirect(url_for("digbans.index"))
    return _form_page(form, ban, status=status)


@bp.post("/<int:ban_id>/end")
def end(ban_id: int) -> Response:
    actor = current_actor()
    bans.require_may_manage(actor)
    form = VersionForm(prefix=END_PREFIX)
    if not form.validate_on_submit():
        flash(_("The form had expired; please try again."))
        return redirect(url_for("digbans.edit", ban_id=ban_id))
    try:
        bans.end_dig_ban(db.session(), actor, ban_id, form.version.data or 0)
    except StaleVersion:
        flash(_("Somebody else changed this dig ban meanwhile. Look at it again, then end it."))
        return redirect(url_for("digbans.edit", ban_id=ban_id))
    except Conflict:
        flash(_("Only a dig ban that has started and runs past today can be ended today."))
        return redirect(url_for("digbans.edit", ban_id=ban_id))
    flash(_("The dig ban ends today."))
    return redirect(url_for("digbans.index"))


def _form_page(form: DigBanForm, ban: DigBan | None, status: int | None = None) -> tuple[str, int]:
    m = maps.base_map(current_app.config)
    maps.draw_control(m, maps.AREA_SHAPES)
    page = render_template(
        "digbans/form.html",
        form=form,
        ban=ban,
        end_form=_end_form(ban) if ban is not None else None,
        may_end=ban is not None and bans.may_end(ban),
        map=maps.embed(m, csp_nonce()),
    )
    return page, status or (422 if form.errors else 200)


def _end_form(ban: DigBan) -> VersionForm:
    """The "end this dig ban" button beside the form (its own field names, not the form's)."""
    return VersionForm(formdata=None, prefix=END_PREFIX, data={"version": ban.version})


def _form_values(ban: DigBan) -> dict:
    """The form's values for a stored ban (its area in EPSG:4326 for the map)."""
    data = bans.data_of(ban)
    return {
        "title": data.title,
        "reason": data.reason,
        "start_date": data.start_date,
        "end_date": data.end_date,
        "geometry": geo.reproject(data.geometry(), bound_srid(), 4326),
        "version": ban.version,
    }
