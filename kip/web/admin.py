"""The administrator's pages: organisations, users and API tokens."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from .. import db, policy
from ..errors import KipError
from ..models import OrganisationKind, Role, TokenScope
from ..security import current_actor
from ..services import accounts
from ..services.organisations import add_organisation, find_organisation, list_organisations
from .forms import ConfirmForm, OrganisationForm, TokenForm, UserForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def _administrators_only() -> None:
    policy.require_administrator(current_actor())


def _organisation_choices() -> list[tuple[int, str]]:
    return [(org.id, org.name) for org, _n in list_organisations(db.session())]


@bp.get("/")
def index() -> Response:
    return redirect(url_for("admin.users"))


@bp.route("/organisations", methods=["GET", "POST"])
def organisations() -> str | Response:
    form = OrganisationForm()
    form.kind.choices = [(k.value, k.value) for k in OrganisationKind]
    if form.validate_on_submit():
        try:
            add_organisation(
                db.session(),
                current_actor(),
                form.name.data,
                form.kind.data,
                contact_email=form.contact_email.data or None,
            )
        except KipError as error:
            form.name.errors.append(error.message)
        else:
            flash(_("Organisation added."))
            return redirect(url_for("admin.organisations"))
    return render_template(
        "admin/organisations.html", form=form, rows=list_organisations(db.session())
    )


@bp.route("/users", methods=["GET", "POST"])
def users() -> str | Response:
    session = db.session()
    form = UserForm()
    form.organisation.choices = _organisation_choices()
    form.role.choices = [(r.value, r.value) for r in Role]
    if form.validate_on_submit():
        try:
            accounts.create_user(
                session,
                current_actor(),
                email=form.email.data,
                name=form.name.data,
                organisation=find_organisation(session, form.organisation.data),
                role=form.role.data,
                password=form.password.data,
            )
        except KipError as error:
            field = next(iter(error.details.get("errors", {"email": ""})))
            getattr(form, field, form.email).errors.append(error.message)
        else:
            flash(_("Account created."))
            return redirect(url_for("admin.users"))
    return render_template(
        "admin/users.html", form=form, users=accounts.list_users(session, current_actor())
    )


@bp.route("/tokens", methods=["GET", "POST"])
def tokens() -> str | tuple[str, int] | Response:
    session = db.session()
    form = TokenForm()
    form.organisation.choices = _organisation_choices()
    form.scope.choices = [(s.value, s.value) for s in TokenScope]
    new = None
    if form.validate_on_submit():
        try:
            new = accounts.create_token(
                session,
                current_actor(),
                organisation=find_organisation(session, form.organisation.data),
                scope=form.scope.data,
                name=form.name.data or "",
                days=form.days.data,
            )
        except KipError as error:
            form.days.errors.append(error.message)
    return render_template(
        "admin/tokens.html",
        form=form,
        new=new,
        revoke_form=ConfirmForm(),
        tokens=accounts.list_tokens(session, current_actor()),
        now=accounts.now(),
    )


@bp.post("/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int) -> Response:
    if ConfirmForm().validate_on_submit():
        accounts.revoke_token(db.session(), current_actor(), token_id)
        flash(_("Token revoked."))
    return redirect(url_for("admin.tokens"))
