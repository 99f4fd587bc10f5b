"""Security cases, one file each, each failing on the code before its fix (a package, so
their names do not clash with those in tests/)."""
