"""Browser tests (a package; their fixtures, in fixtures.py, are loaded by tests/conftest.py)."""
