"""Translations: the interface speaks Dutch by default and English on request.

The language is chosen, in this order, by ``?lang=`` (remembered in a cookie), the cookie,
and the browser's Accept-Language; else Dutch. Source strings are English; the Dutch
catalogue in ``kip/translations/nl`` must translate every one of them (a test checks).
"""

from __future__ import annotations

from flask import Flask, Response, request
from flask_babel import Babel, get_locale

COOKIE = "kip_lang"


def select_locale() -> str:
    languages: list[str] = _languages()
    asked = request.args.get("lang") or request.cookies.get(COOKIE)
    if asked in languages:
        return asked
    return request.accept_languages.best_match(languages) or languages[0]


def _languages() -> list[str]:
    from flask import current_app

    return list(current_app.config["LANGUAGES"])


def _remember_language(response: Response) -> Response:
    asked = request.args.get("lang")
    if asked and asked in _languages():
        response.set_cookie(COOKIE, asked, max_age=365 * 24 * 3600, samesite="Lax")
    return response


def init_app(app: Flask) -> None:
    from pathlib import Path

    app.config.setdefault(
        "BABEL_TRANSLATION_DIRECTORIES", str(Path(__file__).parent / "translations")
    )
    Babel(app, locale_selector=select_locale)
    app.after_request(_remember_language)

    @app.context_processor
    def _language_context() -> dict:
        return {"current_locale": str(get_locale()), "languages": _languages()}
