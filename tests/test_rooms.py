"""The rooms below the views do not know Flask: importing them imports no Flask."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import kip

WEB_FRAMEWORK = ("flask", "werkzeug", "flask_babel", "flask_login", "flask_smorest")


def imported_by(*modules: str) -> list[str]:
    """The top-level packages a fresh interpreter has loaded after importing ``modules``."""
    code = (
        f"import sys; import {', '.join(modules)}; "
        "import json; print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    env = dict(os.environ, PYTHONPATH=str(kip.ROOT))
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def test_the_errors_the_engine_the_policy_and_the_readers_import_no_flask():
    loaded = imported_by("kip.errors", "kip.engine", "kip.policy", "kip.io.readers")
    assert "kip" in loaded
    assert [name for name in WEB_FRAMEWORK if name in loaded] == []


def test_the_errors_import_no_database_driver_either():
    loaded = imported_by("kip.errors")
    assert [name for name in ("sqlalchemy", "psycopg", *WEB_FRAMEWORK) if name in loaded] == []


def test_the_app_does_import_flask():
    """The check above can see Flask when it is there."""
    assert "flask" in imported_by("kip.web.errors")
