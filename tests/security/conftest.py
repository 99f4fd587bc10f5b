"""The security cases that need a browser use the browser tests' live server and browser."""

from browser.conftest import (  # noqa: F401  (fixtures and the screenshot hook, re-used)
    browser,
    live_server,
    login,
    page,
    pytest_runtest_makereport,
)
