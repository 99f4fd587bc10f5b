"""Write works to files: GeoJSON and CSV (EPSG:4326), GeoPackage (project CRS), XLSX.

Every writer takes the same input — records (one dict per work, plain values) and their
geometries (shapely, in the CRS the format wants) — and returns the file's bytes.

CSV and XLSX are opened in spreadsheets, so their text cells are written as text that no
spreadsheet runs as a formula (:func:`kip.io.formulas.neutralise`, in :func:`sheet_value`),
and an XLSX text cell is typed text (never a formula or an error value); numbers, dates and
booleans stay numbers, dates and booleans. GeoJSON and GeoPackage are data formats for GIS
software and other programs, which do not run formulas: they carry the values unchanged.
:func:`write_csv_table` is the one CSV writer, for other tables too (``kip clashes list``).
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from .formulas import neutralise

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
    wkts = shapely.to_wkt(geometries, rounding_precision=-1) if len(geometries) else []
    rows = ([*(rec[n] for n in names), wkt] for rec, wkt in zip(records, wkts, strict=True))
    return write_csv_table([*names, "wkt"], rows).encode("utf-8")


def write_csv_table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    r"""A CSV text of ``rows`` under ``header``, every cell as :func:`sheet_value` has it
    (empty for None, ``true``/``false`` for booleans, ISO dates). Lines end in CRLF (RFC
    4180), so a carriage return inside a value is quoted too, not taken for a line's end.

    >>> write_csv_table(["title", "budget"], [["=1+1", -12.5], [None, True], ["a\rb", 1]])
    'title,budget\r\n\'=1+1,-12.5\r\n,true\r\n"a\rb",1\r\n'
    """
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([sheet_value(name) for name in header])
    writer.writerows([_csv_cell(value) for value in row] for row in rows)
    return out.getvalue()


def sheet_value(value: Any) -> Any:
    """A value as a spreadsheet cell holds it: text (a list joined with ``;``) that no
    spreadsheet runs as a formula; numbers, dates, booleans and None as they are.

    >>> sheet_value("@SUM(A1)"), sheet_value(["=x", "y"]), sheet_value(-12.5)
    ("'@SUM(A1)", "'=x;y", -12.5)
    """
    if isinstance(value, list):
        value = ";".join(value)
    if isinstance(value, str):
        return neutralise(value)
    return value


def _csv_cell(value: Any) -> Any:
    value = sheet_value(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def write_xlsx(records: list[dict[str, Any]], geometries: np.ndarray, names: list[str]) -> bytes:
    """One sheet, one row per work, the geometry as WKT in the last column.

    Every text cell is typed text. openpyxl types a string by its content: one that starts
    with ``=`` would become a formula (:func:`sheet_value` leaves none) and an error word
    (``#N/A``) an error value, so those are given as cells typed text; any other string it
    types text itself. Characters a worksheet cannot hold (control characters) become U+FFFD
    instead of failing the export.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE

    book = Workbook(write_only=True)
    sheet = book.create_sheet("works")

    def cell(value: Any) -> Any:
        value = sheet_value(value)
        if not isinstance(value, str):
            return value
        value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
        if not value.startswith("=") and value not in ERROR_CODES:
            return value
        text = WriteOnlyCell(sheet, value=value)
        text.data_type = "s"
        return text

    sheet.append([cell(name) for name in [*names, "wkt"]])
    wkts = shapely.to_wkt(geometries, rounding_precision=-1) if len(geometries) else []
    for rec, wkt in zip(records, wkts, strict=True):
        if len(wkt) > XLSX_CELL_LIMIT:
            wkt = "(too long for a spreadsheet cell: export as GeoPackage for this geometry)"
        sheet.append([*(cell(rec[n]) for n in names), cell(wkt)])
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
