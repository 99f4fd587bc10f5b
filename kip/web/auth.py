"""Logging in and out, changing a password, and resetting it by a mailed link."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required, login_user, logout_user
from werkzeug.wrappers import Response

from .. import db
from ..errors import ValidationError
from ..mail import MailNotSent, send_mail
from ..security import SessionUser, current_actor, open_to_strangers
from ..services import accounts
from .forms import ConfirmForm, LoginForm, PasswordChangeForm, ResetForm, ResetRequestForm

bp = Blueprint("auth", __name__)
_WEAK = _l(
    "Choose a stronger password: at least 10 characters, several different ones, "
    "and not your e-mail address."
)


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: never send someone on to another host after logging in."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
@open_to_strangers
def login() -> str | Response:
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(db.session(), form.email.data, form.password.data)
        if user is not None:
            login_user(SessionUser(user), remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")) or url_for("home.index"))
        # The same words whatever was wrong: nobody learns which addresses have an account.
        form.form_errors.append(_("E-mail address or password is not right."))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@open_to_strangers
def logout() -> Response:
    if ConfirmForm().validate_on_submit():
        logout_user()
    return redirect(url_for("home.index"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account() -> str | Response:
    from flask_login import current_user

    form = PasswordChangeForm()
    if form.validate_on_submit():
        user = current_user.user
        try:
            accounts.change_password(
                db.session(),
                current_actor(),
                user,
                form.current_password.data,
                form.new_password.data,
            )
        except ValidationError as error:
            if "current_password" in error.details.get("errors", {}):
                form.current_password.errors.append(_("The current password is not right."))
            else:
                form.new_password.errors.append(_WEAK)
        else:
            login_user(SessionUser(user))  # the old session ended with the old password
            flash(_("Your password has been changed."))
            return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form, user=current_user.user)


@bp.route("/password-reset", methods=["GET", "POST"])
@open_to_strangers
def request_reset() -> str | Response:
    form = ResetRequestForm()
    if form.validate_on_submit():
        user = accounts.find_user_for_reset(db.session(), form.email.data)
        if user is not None:
            token = accounts.reset_token(current_app.config["SECRET_KEY"], user)
            link = url_for("auth.reset", token=token, _external=True)
            body = _(
                "Someone (hopefully you) asked to reset your KIP password.\n\n"
                "Choose a new password within an hour at:\n%(link)s\n\n"
                "If it was not you, ignore this mail: your password stays as it is.",
                link=link,
            )
            try:
                send_mail(current_app.config, user.email, _("Reset your KIP password"), body)
            except MailNotSent:
                current_app.logger.exception("password reset mail to user %s failed", user.id)
        flash(
            _(
                "If an account exists for that address, we have sent it a link to choose "
                "a new password."
            )
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/request_reset.html", form=form)


@bp.route("/password-reset/<token>", methods=["GET", "POST"])
@open_to_strangers
def reset(token: str) -> str | Response | tuple[str, int]:
    secret = current_app.config["SECRET_KEY"]
    try:
        accounts.user_for_reset(db.session(), secret, token)
    except ValidationError as error:
        return render_template("auth/reset_invalid.html", message=error.message), 400
    form = ResetForm()
    if form.validate_on_submit():
        try:
            accounts.reset_password(db.session(), secret, token, form.new_password.data)
        except ValidationError:
            form.new_password.errors.append(_WEAK)
        else:
            flash(_("Your password has been changed. Log in with the new one."))
            return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form)
