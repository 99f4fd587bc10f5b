"""Security cases, one file each (a package, so their names do not clash with tests/)."""
