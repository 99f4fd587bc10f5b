"""Write works to files: GeoJSON and CSV (EPSG:4326), GeoPackage (project CRS), XLSX.

Every writer takes the same input — records (one dict per work, plain values) and their
geometries (shapely, in the CRS the format wants) — and returns the file's bytes.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import shapely

# Excel refuses longer cells.
XLSX_CELL_LIMIT = 32_767


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, list):
        return ";".join(value)
    return value


def write_geojson(records: list[dict[str, Any]], geometries: np.ndarray) -> bytes:
    """An RFC 7946 FeatureCollection (the geometries must be in EPSG:4326)."""
    shapes = shapely.to_geojson(geometries) if len(geometries) else []
    parts = []
    for rec, shape in zip(records, shapes, strict=True):
        properties = json.dumps({k: _plain(v) for k, v in rec.items()}, ensure_ascii=False)
        parts.append(f'{{"type":"Feature","geometry":{shape},"properties":{properties}}}')
    features = ",\n".join(parts)
    return f'{{"type":"FeatureCollection","features":[{features}]}}\n'.encode()


def write_csv(records: list[dict[str, Any]], geometries: np.ndarray, names: list[str]) -> bytes:
    """A UTF-8 CSV with a ``wkt`` column (full precision, in the geometries' CRS)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*names, "wkt"])
    wkts = shapely.to_wkt(geometries, rounding_precision=-1) if len(geometries) else []
    for rec, wkt in zip(records, wkts, strict=True):
        writer.writerow([_cell(rec[n]) for n in names] + [wkt])
    return out.getvalue().encode("utf-8")


def _cell(value: Any) -> Any:
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def write_xlsx(records: list[dict[str, Any]], geometries: np.ndarray, names: list[str]) -> bytes:
    """One sheet, one row per work, the geometry as WKT in the last column."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("works")
    sheet.append([*names, "wkt"])
    wkts = shapely.to_wkt(geometries, rounding_precision=-1) if len(geometries) else []
    for rec, wkt in zip(records, wkts, strict=True):
        if len(wkt) > XLSX_CELL_LIMIT:
            wkt = "(too long for a spreadsheet cell: export as GeoPackage for this geometry)"
        row = []
        for n in names:
            value = rec[n]
            row.append(";".join(value) if isinstance(value, list) else value)
        sheet.append([*row, wkt])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def write_gpkg(
    records: list[dict[str, Any]],
    geometries: np.ndarray,
    names: list[str],
    srid: int,
    layer: str = "works",
) -> bytes:
    """A GeoPackage written by GDAL, with typed columns, in ``srid``."""
    import pyogrio.raw

    field_data = [_gpkg_column([rec[n] for rec in records]) for n in names]
    with tempfile.TemporaryDirectory(prefix="kip-export-") as tmp:
        path = Path(tmp) / "works.gpkg"
        pyogrio.raw.write(
            str(path),
            shapely.to_wkb(geometries) if len(geometries) else np.empty(0, dtype=object),
            field_data,
            fields=names,
            layer=layer,
            driver="GPKG",
            geometry_type="Unknown",
            crs=f"EPSG:{srid}",
        )
        return path.read_bytes()


def _gpkg_column(values: list[Any]) -> np.ndarray:
    sample = next((v for v in values if v is not None), None)
    if isinstance(sample, bool):
        return np.array(values, dtype=bool)
    if isinstance(sample, int):
        return np.array(values, dtype=np.int64)
    if isinstance(sample, Decimal | float):
        return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    if isinstance(sample, date):
        return np.array(values, dtype="datetime64[D]")
    return np.array([";".join(v) if isinstance(v, list) else v for v in values], dtype=object)
