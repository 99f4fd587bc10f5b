"""Security cases (issue 13): one test file per case, each failing on the code before its fix."""
