"""A zip whose headers lie about its members is refused with a message, never a 500.

The zipped Shapefiles are real (written by GDAL, zipped by Python); then a member's
headers are changed: it unpacks to more than they say (how a zip bomb hides), or it is
said to be encrypted. KIP counts what the members really unpack to as it unpacks them
(against 4 × IMPORT_MAX_BYTES), and refuses a member that is not what its headers say.
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

from test_import_files import zipped_shapefile


def deflated(archive: Path) -> Path:
    """The same zip with its members compressed (as most zip tools write them)."""
    with zipfile.ZipFile(archive) as zf:
        members = [(info.filename, zf.read(info)) for info in zf.infolist()]
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in members:
            zf.writestr(name, content)
    return archive


def lie(archive: Path, member: str, *, size: int | None = None, flags: int = 0) -> Path:
    """Change what the local header and the central directory say of ``member``: its
    unpacked ``size``, and/or set ``flags`` bits."""
    data = bytearray(archive.read_bytes())
    with zipfile.ZipFile(archive) as zf:
        local = zf.getinfo(member).header_offset
    central = data.index(b"PK\x01\x02")
    while data[central + 46 : central + 46 + len(member)] != member.encode():
        central = data.index(b"PK\x01\x02", central + 4)
    # offsets in the local header and in the central directory entry
    for header, flags_at, size_at in ((local, 6, 22), (central, 8, 24)):
        (old,) = struct.unpack_from("<H", data, header + flags_at)
        struct.pack_into("<H", data, header + flags_at, old | flags)
        if size is not None:
            struct.pack_into("<I", data, header + size_at, size)
    archive.write_bytes(bytes(data))
    return archive


def assert_refused(response, member: str) -> None:
    assert response.status_code == 422, (response.status_code, response.data[:300])
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == "file-refused"
    assert (
        f"werken.zip cannot be unpacked: {member} is damaged or not what its headers say"
        in (response.json["title"])
    )


def test_a_member_that_unpacks_to_more_than_it_says_is_refused(api_import, tmp_path) -> None:
    archive = deflated(zipped_shapefile(tmp_path, n=50))
    assert api_import(archive).status_code == 200  # the honest zip is read
    assert_refused(api_import(lie(archive, "werken.dbf", size=100)), "werken.dbf")


def test_a_member_said_to_be_encrypted_is_refused(api_import, tmp_path) -> None:
    archive = zipped_shapefile(tmp_path)
    assert_refused(api_import(lie(archive, "werken.shx", flags=0x1)), "werken.shx")
