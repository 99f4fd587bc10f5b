"""A work's own page: what, who, where, when, and everything that happened to it."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from .. import db, policy
from ..security import current_actor
from ..services import works
from .forms import ConfirmForm

bp = Blueprint("works", __name__, url_prefix="/works")


@bp.get("/<int:work_id>")
def show(work_id: int) -> str:
    actor = current_actor()
    work = works.get_visible_work(db.session(), actor, work_id)
    history = works.history(db.session(), work) if policy.is_partner(actor) else []
    return render_template(
        "works/show.html",
        work=work,
        history=history,
        can_restore=work.deleted_at is not None and policy.is_coordinator(actor),
        confirm=ConfirmForm(),
    )


@bp.post("/<int:work_id>/restore")
def restore(work_id: int) -> Response:
    actor = current_actor()
    policy.require_coordinator(actor)
    if ConfirmForm().validate_on_submit():
        work = works.get_visible_work(db.session(), actor, work_id)
        works.restore_work(db.session(), actor, work)
        flash(_("The work has been restored."))
    return redirect(url_for("works.show", work_id=work_id))
