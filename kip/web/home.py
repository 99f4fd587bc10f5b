"""The front page: what is coming to the town's streets (the public map joins it later)."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, render_template

from .. import db
from ..services.overview import public_overview

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    overview = public_overview(db.session(), date.today())
    return render_template("home.html", overview=overview)
