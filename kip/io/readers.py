"""Read a GIS file into columns and geometries, through GDAL (pyogrio).

GeoJSON, GeoPackage, zipped Shapefile, KML and CSV (a WKT column, or x/y or lon/lat
columns). A file is refused as a whole — :class:`FileRefused`, with a message that says
what is wrong and what to do — when it is too large (in bytes, or in vertices in all),
empty, not what its name says, a zip or GeoPackage that is not safe to hand to GDAL
(:mod:`.containers`), cannot be parsed, or has no CRS; cell-level problems (a bad WKT in
one CSV row) are kept per row for the import report. Nothing here knows a session or Flask.
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from ..config import DEFAULTS
from .columns import KML_NOISE, KML_OWN, Mapping, find_geometry_columns, normalise
from .containers import FileRefused, check_geopackage, unpacked_shapefile
from .values import is_blank

SUFFIXES = {
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".gpkg": "GeoPackage",
    ".zip": "zipped Shapefile",
    ".shp": "Shapefile",
    ".kml": "KML",
    ".csv": "CSV",
    ".txt": "CSV",
}


@dataclass
class RowProblem:
    """One problem of one row: ``row`` is 1-based, as the planner counts features."""

    row: int
    field: str
    message: str


@dataclass
class SourceTable:
    """What a file holds: its columns, one geometry per row, and the CRS they are in."""

    filename: str
    kind: str
    columns: dict[str, np.ndarray]
    geometries: np.ndarray  # shapely geometries (or None), one per row
    crs: CRS | None
    crs_said_by: str = "file"  # "file", "option", "mapping" or "guess"
    problems: list[RowProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skip_columns: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.geometries)


def crs_from_epsg(code: int | str, what: str) -> CRS:
    try:
        return CRS.from_user_input(int(str(code).upper().removeprefix("EPSG:")))
    except (CRSError, ValueError):
        raise FileRefused(f"{what} {code!r} is not a known EPSG code") from None


def read_source(
    path: str | Path,
    *,
    max_bytes: int,
    max_vertices: int = DEFAULTS["IMPORT_MAX_VERTICES"],
    filename: str | None = None,
    crs: int | str | None = None,
    mapping: Mapping | None = None,
) -> SourceTable:
    """Read the file at ``path`` (named ``filename`` by whoever uploaded it).

    ``crs`` (an EPSG code) says which CRS the coordinates are in, over whatever the file
    says; else the file's own CRS is used, else the mapping's ``crs``. A file without
    any (a Shapefile without ``.prj``) is refused, and so is one over ``max_bytes`` or
    whose geometries have more than ``max_vertices`` vertices in all.
    """
    path = Path(path)
    filename = filename or path.name
    mapping = mapping or Mapping()
    suffix = Path(filename).suffix.lower()
    kind = SUFFIXES.get(suffix)
    if kind is None:
        raise FileRefused(
            f"{filename}: KIP cannot read {suffix or 'files without an extension'}; it reads "
            ".geojson/.json, .gpkg, .zip (a zipped Shapefile), .kml and .csv"
        )
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise FileRefused(f"{filename} cannot be read: {exc.strerror}") from None
    if size == 0:
        raise FileRefused(f"{filename} is empty")
    if size > max_bytes:
        raise FileRefused(
            f"{filename} is {_mb(size)}, over the import limit of {_mb(max_bytes)} "
            "(IMPORT_MAX_BYTES); split the file or ask the administrator"
        )
    with path.open("rb") as fh:
        head = fh.read(4096)
    _check_content(filename, kind, head)
    given = crs_from_epsg(crs, "--crs") if crs is not None else None
    if kind == "CSV":
        table = _read_csv(path, filename, head, given, mapping)
        _check_vertices(table, max_vertices)
        return table
    if kind == "GeoPackage":
        check_geopackage(path, filename)
    with _gdal_path(path, filename, kind, max_bytes) as (gdal_path, notes):
        meta, wkb, data = _read_layer(gdal_path, filename, kind, notes)
    table = SourceTable(
        filename=filename,
        kind=kind,
        columns=dict(zip(meta["fields"], data, strict=True)),
        geometries=_from_wkb(wkb, len(data[0]) if data else 0),
        crs=None,
        warnings=notes,
    )
    _check_vertices(table, max_vertices)
    if kind == "KML":
        # The driver's own placemark fields: noise, or (begin, end, ...) when left empty.
        table.skip_columns = [
            c
            for c, values in table.columns.items()
            if normalise(c) in KML_NOISE
            or (normalise(c) in KML_OWN and all(is_blank(v) for v in values))
        ]
    file_crs = CRS.from_user_input(meta["crs"]) if meta.get("crs") else None
    if given is not None:
        table.crs, table.crs_said_by = given, "option"
    elif file_crs is not None:
        table.crs = file_crs
    elif mapping.crs is not None:
        table.crs, table.crs_said_by = crs_from_epsg(mapping.crs, "the mapping's crs"), "mapping"
    else:
        if kind in ("zipped Shapefile", "Shapefile"):
            raise FileRefused(
                f"{filename}: the Shapefile has no .prj, so its coordinate system is unknown; "
                "add the .prj to the zip, or say the CRS with --crs (e.g. --crs 28992)"
            )
        raise FileRefused(
            f"{filename} does not say its coordinate system; say it with --crs (e.g. 28992)"
        )
    return table


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def _check_vertices(table: SourceTable, limit: int) -> None:
    """Refuse a file whose geometries have more than ``limit`` vertices in all (counted
    without touching a coordinate, before anything checks or reprojects them)."""
    total = int(shapely.get_num_coordinates(table.geometries).sum())
    if total > limit:
        raise FileRefused(
            f"{table.filename} holds {total:,} vertices in all, more than the {limit:,} an "
            "import takes (IMPORT_MAX_VERTICES); split the file, or simplify its geometries"
        )


_LOOKS = (
    (b"SQLite format 3\x00", "a GeoPackage/SQLite database"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"%PDF", "a PDF document"),
    (b"\xd0\xcf\x11\xe0", "an old Office document"),
)


def _looks_like(head: bytes) -> str:
    for magic, what in _LOOKS:
        if head.startswith(magic):
            return what
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped[:1] in (b"{", b"["):
        return "JSON"
    if stripped[:1] == b"<":
        return "XML/HTML"
    if b"\x00" in head:
        return "binary data"
    return "text"


def _check_content(filename: str, kind: str, head: bytes) -> None:
    """Refuse a file whose content is not what its name says (a CSV renamed .gpkg, ...)."""
    looks = _looks_like(head)
    expected = {
        "GeoJSON": ("JSON",),
        "GeoPackage": ("a GeoPackage/SQLite database",),
        "zipped Shapefile": ("a ZIP archive",),
        "Shapefile": ("binary data",),
        "KML": ("XML/HTML",),
        "CSV": ("text",),
    }[kind]
    if looks not in expected:
        raise FileRefused(
            f"{filename} is named as {kind} but holds {looks}; export it again as {kind}, "
            "or give it the extension that matches its content"
        )
    if kind == "KML" and b"<kml" not in head:
        raise FileRefused(f"{filename} is named as KML but holds other XML (no <kml> element)")


@contextmanager
def _gdal_path(
    path: Path, filename: str, kind: str, max_bytes: int
) -> Iterator[tuple[str, list[str]]]:
    notes: list[str] = []
    if kind != "zipped Shapefile":
        yield str(path), notes
        return
    with unpacked_shapefile(path, filename, max_bytes, notes) as shp:
        yield shp, notes


def _read_layer(
    gdal_path: str, filename: str, kind: str, notes: list[str], **open_options: Any
) -> tuple[dict, np.ndarray | None, list[np.ndarray]]:
    import pyogrio
    from pyogrio.errors import DataLayerError, DataSourceError

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            layers = pyogrio.list_layers(gdal_path)
            if len(layers) == 0:
                raise FileRefused(f"{filename} holds no layers")
            with_geometry = [str(n) for n, g in layers if g is not None] or [str(layers[0][0])]
            layer = with_geometry[0]
            if len(layers) > 1:
                notes.append(f"{filename} has {len(layers)} layers; only {layer!r} was read")
            meta, _fids, wkb, data = pyogrio.raw.read(gdal_path, layer=layer, **open_options)
        except (DataSourceError, DataLayerError) as exc:
            reason = str(exc).split(";")[0].replace(gdal_path, filename)
            if "not recognized" in reason:
                reason = f"GDAL does not recognise it as {kind}"
            raise FileRefused(f"{filename} cannot be read as {kind}: {reason}") from None
    notes.extend(str(w.message) for w in caught)
    if not data and wkb is None:
        raise FileRefused(f"{filename} holds no features")
    count = len(wkb) if wkb is not None else len(data[0])
    if count == 0:
        raise FileRefused(f"{filename} holds no features")
    return meta, wkb, list(data)


def _from_wkb(wkb: np.ndarray | None, count: int) -> np.ndarray:
    if wkb is None:
        return np.full(count, None, dtype=object)
    return shapely.from_wkb(wkb, on_invalid="ignore")


# --- CSV ---------------------------------------------------------------------------------


def _read_csv(
    path: Path, filename: str, head: bytes, given: CRS | None, mapping: Mapping
) -> SourceTable:
    notes: list[str] = []
    raw = path.read_bytes()
    encoding = _encoding(raw)
    with tempfile.TemporaryDirectory(prefix="kip-import-") as tmp:
        gdal_path = path
        if encoding != "utf-8":
            notes.append(
                f"{filename} is not UTF-8; it was read as {encoding} — check that accented "
                "letters (é, ë) came through, or save the file as UTF-8"
            )
            gdal_path = Path(tmp) / "source.csv"
            gdal_path.write_text(raw.decode(encoding), encoding="utf-8")
        meta, _wkb, data = _read_layer(
            str(gdal_path),
            filename,
            "CSV",
            notes,
            read_geometry=False,
            GEOM_POSSIBLE_NAMES="-",
            KEEP_GEOM_COLUMNS="YES",
            AUTODETECT_TYPE="NO",
        )
    columns = dict(zip(meta["fields"], data, strict=True))
    count = len(data[0]) if data else 0
    geo_columns = find_geometry_columns(columns, mapping)
    problems: list[RowProblem] = []
    if "wkt" in geo_columns:
        used = [geo_columns["wkt"]]
        geometries = _wkt_column(columns[used[0]], used[0], problems)
        lonlat = False
    elif "lon" in geo_columns and "lat" in geo_columns:
        used = [geo_columns["lon"], geo_columns["lat"]]
        geometries = _xy_columns(columns[used[0]], columns[used[1]], used, problems)
        lonlat = True
    elif "x" in geo_columns and "y" in geo_columns:
        used = [geo_columns["x"], geo_columns["y"]]
        geometries = _xy_columns(columns[used[0]], columns[used[1]], used, problems)
        lonlat = False
    else:
        raise FileRefused(
            f"{filename} has no geometry column: KIP looks for a WKT column (wkt, geometry, "
            "geom) or coordinate columns (x and y, or lon and lat)"
        )
    table = SourceTable(
        filename=filename,
        kind="CSV",
        columns=columns,
        geometries=geometries if count else np.empty(0, dtype=object),
        crs=None,
        problems=problems,
        warnings=notes,
        skip_columns=used,
    )
    if given is not None:
        table.crs, table.crs_said_by = given, "option"
    elif mapping.crs is not None:
        table.crs, table.crs_said_by = crs_from_epsg(mapping.crs, "the mapping's crs"), "mapping"
    elif lonlat:
        table.crs, table.crs_said_by = CRS.from_epsg(4326), "file"
    else:
        table.crs_said_by = "guess"  # decided by the importer, which knows the project CRS
    return table


def _encoding(raw: bytes) -> str:
    """UTF-8 when the bytes are UTF-8; else Windows-1252 (what Excel writes), else Latin-1."""
    for encoding in ("utf-8", "cp1252"):
        try:
            raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    return "latin-1"


def _wkt_column(values: np.ndarray, column: str, problems: list[RowProblem]) -> np.ndarray:
    texts = np.array([v.strip() if isinstance(v, str) else "" for v in values], dtype=object)
    geometries = shapely.from_wkt(np.where(texts == "", None, texts), on_invalid="ignore")
    for i in np.flatnonzero((texts != "") & shapely.is_missing(geometries)):
        problems.append(RowProblem(int(i) + 1, column, f"{texts[i][:40]!r} is not valid WKT"))
    return geometries


def _xy_columns(
    xs: np.ndarray, ys: np.ndarray, names: list[str], problems: list[RowProblem]
) -> np.ndarray:
    coords = np.full((len(xs), 2), np.nan)
    for j, (values, name) in enumerate(((xs, names[0]), (ys, names[1]))):
        for i, value in enumerate(values):
            if value is None or not str(value).strip():
                continue
            try:
                coords[i, j] = float(str(value).strip().replace(",", "."))
            except ValueError:
                problems.append(RowProblem(i + 1, name, f"{value!r} is not a number"))
    ok = ~np.isnan(coords).any(axis=1)
    geometries = np.full(len(xs), None, dtype=object)
    if ok.any():
        geometries[ok] = shapely.points(coords[ok])
    return geometries
