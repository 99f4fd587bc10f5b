"""`kip demo load`: the demo town."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from ..actors import Actor
from ..db import unit_of_work
from ..errors import ValidationError
from . import clean_errors, main, problem_line


@main.group("demo")
def demo_group() -> None:
    """The demo town: a fictional integrated plan around Ede."""


@demo_group.command("load")
@with_appcontext
@clean_errors
def demo_load() -> None:
    """Load (or refresh) the demo town; loading it twice duplicates nothing."""
    from ..demo import load_demo

    try:
        with unit_of_work() as session:
            report = load_demo(session, Actor.system("demo"))
    except ValidationError as error:
        raise click.ClickException(problem_line(error)) from None
    click.echo(report.summary())
