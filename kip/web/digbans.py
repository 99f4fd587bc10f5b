"""The dig bans (``/digbans``): the list for partners; proposals for coordinators."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from .. import db, policy
from ..security import current_actor
from ..services import digbans as bans
from .forms import ConfirmForm

bp = Blueprint("digbans", __name__, url_prefix="/digbans")


@bp.get("")
def index() -> str:
    actor = current_actor()
    session = db.session()
    found = bans.list_dig_bans(session, actor, include_ended=bool(request.args.get("all")))
    proposals = []
    if policy.is_coordinator(actor):
        proposals = bans.pending_proposals(session, actor, current_app.config)
    return render_template(
        "digbans/index.html", bans=found, proposals=proposals, confirm=ConfirmForm()
    )


@bp.post("/proposals/<int:work_id>/accept")
def accept_proposal(work_id: int) -> Response:
    actor = current_actor()
    policy.require_coordinator(actor)
    if ConfirmForm().validate_on_submit():
        ban = bans.accept_proposal(db.session(), actor, work_id, current_app.config)
        flash(_("Dig ban %(id)s created.", id=ban.id))
    return redirect(url_for("digbans.index"))
