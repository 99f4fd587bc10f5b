"""The ``kip`` command line for operators: database, organisations, demo data, serving.

Every command that writes runs the same services as the web, inside one transaction
(:func:`kip.db.unit_of_work`): it all happens, or nothing does. Errors are one clear line
on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date
from typing import Any

import click
from flask.cli import FlaskGroup, NoAppException

from ..config import ConfigError
from ..errors import KipError


class NotConfigured(NoAppException):
    """KIP cannot start (no database configured, a bad setting): one line, exit code 1.

    A :class:`NoAppException`, so that ``kip --help`` still lists the commands."""

    exit_code = 1

    def show(self, file: Any = None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True)


def _create_app():
    from .. import create_app

    try:
        return create_app()
    except ConfigError as exc:
        raise NotConfigured(str(exc)) from None


def problem_line(error: KipError, options: dict[str, str] | None = None) -> str:
    """The error's message with the problem of each field it names; ``options`` names a
    field as the command's option that gave it (``{"end_date": "--to"}``).

    >>> from kip.errors import ValidationError
    >>> problem_line(ValidationError("the dig ban cannot be stored",
    ...     errors={"end_date": "9999-12-31 is outside"}), {"end_date": "--to"})
    'the dig ban cannot be stored: --to: 9999-12-31 is outside'
    """
    errors = error.details.get("errors")
    if not isinstance(errors, dict) or not errors:
        return error.message
    named = "; ".join(f"{(options or {}).get(k, k)}: {v}" for k, v in errors.items())
    return f"{error.message}: {named}"


def day_option(ctx: click.Context | None, param: click.Parameter, value: str | None) -> date | None:
    """An option's value as a day (a click ``callback``): a value that is not a date
    (YYYY-MM-DD) is a one-line error naming the option, like :func:`problem_line`'s.

    >>> option = click.Option(["--on"])
    >>> day_option(None, option, "2027-03-01")
    datetime.date(2027, 3, 1)
    >>> day_option(None, option, "2027-02-30")
    Traceback (most recent call last):
    ...
    click.exceptions.ClickException: --on: a date as YYYY-MM-DD, not '2027-02-30'
    """
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        name = param.opts[0] if param.opts else param.name
        raise click.ClickException(f"{name}: a date as YYYY-MM-DD, not {value!r}") from None


def clean_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn KIP's and the database's errors into a one-line message and exit code 1."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from flask import current_app
        from psycopg.errors import QueryCanceled
        from sqlalchemy.exc import OperationalError

        from ..db import BULK_TIMEOUT, statement_timeout

        try:
            return fn(*args, **kwargs)
        except KipError as exc:
            raise click.ClickException(exc.message) from None
        except QueryCanceled:  # past SQLAlchemy (the overlap engine's own statements)
            error = statement_timeout(BULK_TIMEOUT, current_app.config[BULK_TIMEOUT])
            raise click.ClickException(error.message) from None
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise click.ClickException(f"the database cannot be reached: {reason}") from None

    return wrapper


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
@click.version_option(package_name="kip")
def main() -> None:
    """KIP, kaart voor integrale planning: the integrated planning map for works."""


def _register_commands() -> None:
    """Each area of KIP keeps its commands in a module of this package."""
    from . import accounts, clashes, db, demo, digbans, orgs, transfer  # noqa: F401


_register_commands()
