"""Security tests: one file per case, each failing on the code before its fix."""
