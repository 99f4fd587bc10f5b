"""Reading GIS files written by GDAL (pyogrio) in the test: formats, columns, CRS, encodings.

The helpers here write the files the other import tests use.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio.raw
import pytest
import shapely
from shapely import LineString, Point, Polygon

from kip.errors import ValidationError
from kip.io.columns import Mapping, choose_columns
from kip.io.readers import FileRefused, read_source

MB = 1_000_000


def rd_line(i: int = 0) -> LineString:
    """A short street-like line in Ede, in RD New (EPSG:28992)."""
    return LineString([(174000 + 20 * i, 450000), (174000 + 20 * i, 450080)])


def lonlat_point(i: int = 0) -> Point:
    return Point(5.665 + 0.001 * i, 52.04)


def plan_fields(n: int, **overrides: list[Any]) -> dict[str, list[Any]]:
    """Columns as a Dutch planner's GIS would name them."""
    fields: dict[str, list[Any]] = {
        "kenmerk": [f"RIO-{i + 1:03d}" for i in range(n)],
        "titel": [f"Vervangen riool {i + 1}" for i in range(n)],
        "vakdiscipline": ["riolering"] * n,
        "fase": ["gepland"] * n,
        "startdatum": ["2027-03-01"] * n,
        "einddatum": ["2027-06-30"] * n,
    }
    fields.update(overrides)
    return fields


def write_gis(
    path: Path,
    geometries: list[Any],
    fields: dict[str, list[Any]],
    *,
    crs: str | None = "EPSG:28992",
    driver: str | None = None,
    geometry_type: str = "Unknown",
) -> Path:
    """Write a file through GDAL, as QGIS or ogr2ogr would."""
    arrays = []
    for values in fields.values():
        if values and all(isinstance(v, bool) for v in values):
            arrays.append(np.array(values, dtype=bool))
        elif values and all(isinstance(v, np.datetime64) for v in values):
            arrays.append(np.array(values, dtype="datetime64[D]"))
        else:
            arrays.append(np.array(values, dtype=object))
    wkb = np.array([None if g is None else shapely.to_wkb(g) for g in geometries], dtype=object)
    pyogrio.raw.write(
        str(path),
        wkb,
        arrays,
        fields=list(fields),
        geometry_type=geometry_type,
        crs=crs,
        driver=driver,
    )
    return path


def zipped_shapefile(tmp: Path, n: int = 3, *, prj: bool = True, **fields: Any) -> Path:
    folder = tmp / "shp"
    folder.mkdir()
    columns = plan_fields(n, **fields)
    columns["vakdiscipl"] = columns.pop("vakdiscipline")  # a .dbf name has 10 letters at most
    write_gis(
        folder / "werken.shp",
        [rd_line(i) for i in range(n)],
        columns,
        driver="ESRI Shapefile",
        geometry_type="LineString",
    )
    archive = tmp / "werken.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in sorted(folder.iterdir()):
            if prj or part.suffix != ".prj":
                zf.write(part, part.name)
    return archive


def read(path: Path, **kw: Any):
    return read_source(path, max_bytes=10 * MB, **kw)


def test_geopackage_keeps_types_and_crs(tmp_path: Path) -> None:
    path = write_gis(
        tmp_path / "plan.gpkg",
        [rd_line(0), rd_line(1)],
        {
            "kenmerk": ["A", "B"],
            "graaf": [True, False],
            "start": [np.datetime64("2027-03-01"), np.datetime64("2027-04-01")],
        },
    )
    table = read(path)
    assert table.kind == "GeoPackage"
    assert table.crs.to_epsg() == 28992
    assert len(table) == 2
    assert table.columns["graaf"].dtype == bool
    assert shapely.equals(table.geometries[0], rd_line(0))


def test_zipped_shapefile_reads_its_prj(tmp_path: Path) -> None:
    table = read(zipped_shapefile(tmp_path))
    assert table.crs.to_epsg() == 28992
    assert list(table.columns["kenmerk"]) == ["RIO-001", "RIO-002", "RIO-003"]


def test_zipped_shapefile_without_prj_needs_a_crs(tmp_path: Path) -> None:
    archive = zipped_shapefile(tmp_path, prj=False)
    with pytest.raises(FileRefused, match=r"no \.prj.*--crs"):
        read(archive)
    assert read(archive, crs="28992").crs.to_epsg() == 28992


def test_kml_written_by_gdal(tmp_path: Path) -> None:
    path = write_gis(
        tmp_path / "plan.kml",
        [lonlat_point(0), lonlat_point(1)],
        {"Name": ["Kabel A", "Kabel B"], "kenmerk": ["K1", "K2"]},
        crs="EPSG:4326",
        driver="KML",
    )
    table = read(path)
    assert table.crs.to_epsg() == 4326
    assert list(table.columns["kenmerk"]) == ["K1", "K2"]
    chosen = choose_columns(table.columns, Mapping(), skip=table.skip_columns).fields
    assert chosen["title"] == "Name"
    assert "visibility" not in chosen  # the KML driver's own <visibility>, not the planner's


def test_csv_with_wkt_semicolons_and_cp1252(tmp_path: Path) -> None:
    path = tmp_path / "plan.csv"
    body = "kenmerk;titel;wkt\nA;Café-terras;POINT (174000 450000)\nB;Brug;POINT (174100 450000)\n"
    path.write_bytes(body.encode("cp1252"))
    table = read(path)
    assert list(table.columns["titel"]) == ["Café-terras", "Brug"]
    assert any("not UTF-8" in w and "cp1252" in w for w in table.warnings)
    assert table.crs is None and table.crs_said_by == "guess"


def test_csv_lon_lat_columns_are_wgs84(tmp_path: Path) -> None:
    path = tmp_path / "plan.csv"
    path.write_text("kenmerk,lon,lat\nA,5.665,52.04\nB,5.666,52.041\n")
    table = read(path)
    assert table.crs.to_epsg() == 4326
    assert table.geometries[1].equals(Point(5.666, 52.041))


def test_csv_bad_wkt_is_a_row_problem(tmp_path: Path) -> None:
    path = tmp_path / "plan.csv"
    path.write_text('kenmerk,wkt\nA,"POINT (1 2)"\nB,"POINT (oops"\n')
    table = read(path)
    [problem] = table.problems
    assert (problem.row, problem.field) == (2, "wkt")
    assert "not valid WKT" in problem.message


def test_a_polygon_geojson(tmp_path: Path) -> None:
    square = Polygon([(5.66, 52.03), (5.67, 52.03), (5.67, 52.04), (5.66, 52.04)])
    path = write_gis(
        tmp_path / "plan.geojson", [square], {"kenmerk": ["P"]}, crs="EPSG:4326", driver="GeoJSON"
    )
    table = read(path)
    assert table.kind == "GeoJSON" and table.crs.to_epsg() == 4326
    assert table.geometries[0].geom_type == "Polygon"


def test_mapping_file_yaml(tmp_path: Path) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text(
        "columns:\n  title: PROJ_NAAM\nvalues:\n  discipline:\n    RIO: sewer\n"
        "defaults:\n  phase: gepland\ncrs: 28992\n"
    )
    mapping = Mapping.load(path)
    assert mapping.columns == {"title": "PROJ_NAAM"}
    assert mapping.values == {"discipline": {"RIO": "sewer"}}
    assert mapping.crs == 28992


def test_mapping_file_with_an_unknown_field(tmp_path: Path) -> None:
    path = tmp_path / "mapping.json"
    path.write_text('{"columns": {"titel": "NAAM"}}')
    with pytest.raises(ValidationError, match=r"unknown field.*titel"):
        Mapping.load(path)
