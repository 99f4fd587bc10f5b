"""A GeoPackage that would make GDAL run a query of the file's making is refused before
GDAL opens it: a layer that is a view (a recursive one kept a worker busy until it was
killed, twice over took KIP down), and a layer's table that carries triggers beyond the
GeoPackage's own. The files are real: written by GDAL (pyogrio), then altered with
SQLite as an attacker would.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from test_import_files import plan_fields, rd_line, write_gis

RECURSIVE_VIEW = """
CREATE VIEW plan_rows AS
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
    SELECT p.fid * 10000 + n.i AS fid, p.geom, p.kenmerk, p.titel, p.vakdiscipline, p.fase,
           p.startdatum, p.einddatum
    FROM plan p, n;
INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id)
    VALUES ('plan_rows', 'features', 'plan_rows', 28992);
INSERT INTO gpkg_geometry_columns VALUES ('plan_rows', 'geom', 'GEOMETRY', 28992, 0, 0);
-- the view is the file's only layer, so it is the one read
DELETE FROM gpkg_geometry_columns WHERE table_name = 'plan';
DELETE FROM gpkg_contents WHERE table_name = 'plan';
"""

TRIGGER = """
CREATE TRIGGER plan_touch AFTER UPDATE ON plan
BEGIN
    UPDATE plan SET titel = titel || '!' WHERE fid = NEW.fid;
END;
"""


def geopackage(tmp_path: Path, sql: str = "") -> Path:
    path = write_gis(tmp_path / "plan.gpkg", [rd_line(i) for i in range(3)], plan_fields(3))
    if sql:
        with sqlite3.connect(path) as conn:
            conn.executescript(sql)
        conn.close()
    return path


def test_a_layer_that_is_a_view_is_refused(api_import, tmp_path) -> None:
    response = api_import(geopackage(tmp_path, RECURSIVE_VIEW))
    assert response.status_code == 422, response.json
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == "file-refused"
    assert "plan.gpkg holds a view (plan_rows)" in response.json["title"]
    assert "save the layer as a table" in response.json["title"]


def test_a_layer_with_triggers_of_its_own_is_refused(api_import, tmp_path) -> None:
    """GDAL's own triggers (the spatial index, the feature count) are part of every
    GeoPackage it writes and are fine; one more is not."""
    plain = api_import(geopackage(tmp_path))
    assert plain.status_code == 200, plain.json
    assert plain.json["counts"]["create"] == 3

    response = api_import(geopackage(tmp_path, TRIGGER))
    assert response.status_code == 422, response.json
    assert response.json["code"] == "file-refused"
    assert (
        "has triggers KIP does not read files with (plan_touch on plan)" in (response.json["title"])
    )
