"""KIP, kaart voor integrale planning: the integrated planning map for works in public space."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # importing kip (for its engine, a reader, a model) does not import Flask
    from flask import Flask

__version__ = "0.1.0"

# The project root: templates/, static/ and migrations/ live beside the package.
ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build a KIP app: configuration, database, translations, blueprints, errors, CLI.

    ``config`` overrides every other source (tests pass their database URL this way).
    Nothing here touches the database; the first request or command does.
    """
    from flask import Flask

    from . import api, db, i18n, security
    from .config import load_config, secret_key
    from .web import admin, auth, clashes, digbans, errors, health, home, transfer, works

    instance_path = os.environ.get("KIP_INSTANCE_PATH") or str(ROOT / "instance")
    app = Flask(
        __name__,
        instance_path=instance_path,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(load_config(Path(app.instance_path), config))
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secret_key(Path(app.instance_path))

    db.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    api.init_app(app)
    errors.init_app(app)  # after the API's, so every error speaks problem+json
    blueprints = (health, home, auth, admin, works, transfer, clashes, digbans)
    for module in blueprints:
        app.register_blueprint(module.bp)
    security.rate_limit(app, "auth.login", "RATELIMIT_LOGIN")
    security.rate_limit(app, "auth.request_reset", "RATELIMIT_PASSWORD_RESET")
    return app
