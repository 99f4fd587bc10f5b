"""Security tests: one file per case of issue 13 (a package, like tests/browser)."""
