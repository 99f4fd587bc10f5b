"""The file as a whole, looked at before GDAL reads it.

What a container says of itself is not trusted: the members of a zip are counted as they
are unpacked (their headers may lie about their sizes), and a GeoPackage is inspected with
SQLite for what would make GDAL run a query of the file's making (a view, a trigger beyond
the GeoPackage's own). Either is refused with :class:`FileRefused` and a message.
"""

from __future__ import annotations

import sqlite3
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from ..errors import ValidationError


class FileRefused(ValidationError):
    """The file as a whole cannot be imported; nothing was read from it."""

    code = "file-refused"

    def __init__(self, message: str) -> None:
        super().__init__(message, errors={"file": message})


def check_geopackage(path: Path, filename: str) -> None:
    """Refuse a GeoPackage that would make GDAL run a query of the file's making.

    A view is such a query (a layer that was a recursive view kept a worker busy until it
    was killed); KIP reads tables only. A layer's table may carry the triggers a
    GeoPackage has of its own (its spatial index, GDAL's feature count), no others. The
    file is looked at with SQLite before GDAL opens it, read-only.
    """
    uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
    try:
        with closing(sqlite3.connect(uri, uri=True)) as conn:
            master = conn.execute("SELECT type, name, tbl_name FROM sqlite_master").fetchall()
            tables = {name for kind, name, _ in master if kind == "table"}
            layers: dict[str, list[str]] = {}
            if "gpkg_contents" in tables:
                layers = {
                    str(t): [] for (t,) in conn.execute("SELECT table_name FROM gpkg_contents")
                }
            if "gpkg_geometry_columns" in tables:
                for table, column in conn.execute(
                    "SELECT table_name, column_name FROM gpkg_geometry_columns"
                ):
                    layers.setdefault(str(table), []).append(str(column))
    except sqlite3.DatabaseError as exc:
        raise FileRefused(f"{filename} is not a readable GeoPackage ({exc})") from None
    views = sorted(name for kind, name, _ in master if kind == "view")
    if views:
        raise FileRefused(
            f"{filename} holds a view ({', '.join(views)}); KIP reads the tables of a "
            "GeoPackage, not its views: save the layer as a table (in QGIS: Export, Save "
            "Features As) and import that"
        )
    foreign = sorted(
        f"{name} on {table}"
        for kind, name, table in master
        if kind == "trigger" and table in layers and not _own_trigger(name, table, layers[table])
    )
    if foreign:
        raise FileRefused(
            f"{filename} has triggers KIP does not read files with ({', '.join(foreign)}); "
            "save the layer again without them (in QGIS: Export, Save Features As)"
        )


def _own_trigger(name: str, table: str, geometry_columns: list[str]) -> bool:
    """Whether a trigger on a layer's table is one a GeoPackage has of its own: its spatial
    index's (the GeoPackage standard's ``rtree_<table>_<column>_...``) or GDAL's feature
    count.

    >>> _own_trigger("rtree_plan_geom_update6", "plan", ["geom"])
    True
    >>> _own_trigger("trigger_insert_feature_count_plan", "plan", ["geom"])
    True
    >>> _own_trigger("slow", "plan", ["geom"])
    False
    """
    own = {f"trigger_{event}_feature_count_{table}" for event in ("insert", "delete")}
    for column in geometry_columns:
        rtree = f"rtree_{table}_{column}_"
        own |= {rtree + event for event in ("insert", "delete")}
        own |= {f"{rtree}update{i}" for i in range(1, 8)}
    return name in own


@contextmanager
def unpacked_shapefile(
    path: Path, filename: str, max_bytes: int, notes: list[str]
) -> Iterator[str]:
    """Unpack the zipped Shapefile at ``path`` into a temporary folder; yield its .shp.

    It may unpack to ``UNPACKED_TIMES`` × ``max_bytes``, counted as it is unpacked.
    """
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise FileRefused(f"{filename} is not a readable ZIP archive") from None
    with archive:
        infos = archive.infolist()
        shps = sorted(i.filename for i in infos if i.filename.lower().endswith(".shp"))
        if not shps:
            raise FileRefused(f"{filename} holds no Shapefile (.shp); KIP reads zipped Shapefiles")
        if len(shps) > 1:
            notes.append(f"the zip holds {len(shps)} Shapefiles; only {shps[0]} was read")
        with tempfile.TemporaryDirectory(prefix="kip-import-") as tmp:
            stem = shps[0][:-4]
            room = UNPACKED_TIMES * max_bytes
            for info in infos:
                if info.filename.startswith(stem + ".") or info.filename[:-4] == stem:
                    target = Path(tmp) / Path(info.filename).name
                    room -= _unpack(archive, info, target, room, filename)
            yield str(Path(tmp) / Path(shps[0]).name)


# A zip may unpack to this many times IMPORT_MAX_BYTES (a Shapefile packs to about a third).
UNPACKED_TIMES = 4
_CHUNK = 1 << 20


def _unpack(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, room: int, filename: str
) -> int:
    """Unpack one member to ``target`` and return its size, counting what it really unpacks
    to (its header may say otherwise): past ``room`` bytes, or damaged, the file is refused.
    """
    written = 0
    try:
        with archive.open(info) as source, target.open("wb") as out:
            while chunk := source.read(_CHUNK):
                written += len(chunk)
                if written > room:
                    raise FileRefused(
                        f"{filename} unpacks to more than the import limit allows "
                        f"({UNPACKED_TIMES} × IMPORT_MAX_BYTES)"
                    )
                out.write(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError) as exc:
        # A wrong size or checksum in its headers, cut short, encrypted, or packed in a way
        # Python cannot unpack.
        raise FileRefused(
            f"{filename} cannot be unpacked: {info.filename} is damaged or not what its "
            f"headers say ({exc})"
        ) from None
    return written
