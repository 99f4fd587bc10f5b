"""PostgreSQL's binary ``COPY`` format, written by numpy: many rows into a table at once.

A row of fixed-width columns (integers, floats) is one numpy record, so a whole column is
laid out in one assignment and the payload is one ``tobytes``; only a variable-width last
column (WKB) is joined row by row. The payload is made apart from the connection, so one
part can be made on a thread while the connection copies another.

psycopg writes binary ``COPY`` itself (``Copy.write_row``), one Python row at a time; for
the engine's 100,000 measured rows that took 260-300 ms against some 205 ms for this
encoder and the copy together (and it must run on the connection's thread), so the engine
keeps this one. Imports, which write each row's many text fields, use psycopg's
(:mod:`kip.services.import_staging`).
"""

from __future__ import annotations

import struct

import numpy as np
import psycopg


def copy_payload(
    layout: list[tuple[str, str]], columns: dict[str, np.ndarray], tail: np.ndarray | None = None
) -> bytes:
    """A binary COPY of fixed-width columns laid out by numpy; with ``tail`` (bytes or
    None per row), each row ends with that variable-width value.

    ``layout`` names each column and its numpy type (big-endian, as PostgreSQL wants it),
    in the table's order; ``columns`` holds the values by name.

    >>> copy_payload([("id", ">i8")], {"id": np.asarray([7])})[19:]
    b'\\x00\\x01\\x00\\x00\\x00\\x08\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x07\\xff\\xff'
    """
    n = len(next(iter(columns.values())))
    fields_ = [("n", ">i2")]
    fields_ += [(f"{k}_{name}", t) for name, kind in layout for k, t in (("l", ">i4"), ("v", kind))]
    if tail is not None:
        fields_.append(("l_tail", ">i4"))
    row = np.dtype(fields_)
    data = np.empty(n, dtype=row)
    data["n"] = len(layout) + (tail is not None)
    for name, kind in layout:
        data[f"l_{name}"] = np.dtype(kind).itemsize
        data[f"v_{name}"] = columns[name]
    if tail is None:
        body = data.tobytes()
    else:
        values = tail.tolist()
        data["l_tail"] = [-1 if v is None else len(v) for v in values]
        fixed = data.tobytes()
        width = row.itemsize
        pieces: list[bytes] = [b""] * (2 * n)
        pieces[0::2] = [fixed[k : k + width] for k in range(0, len(fixed), width)]
        pieces[1::2] = [b"" if v is None else v for v in values]
        body = b"".join(pieces)
    return b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0) + body + b"\xff\xff"


def copy_rows(raw: psycopg.Connection, table: str, payload: bytes, *, analyze: bool = True) -> None:
    """Put a binary COPY ``payload`` (see :func:`copy_payload`) into ``table``, and give the
    planner its statistics (unless ``analyze`` is false)."""
    with raw.cursor() as cur, cur.copy(f"COPY {table} FROM STDIN (FORMAT BINARY)") as copy:
        copy.write(payload)
    if analyze:
        raw.execute(f"ANALYZE {table}")
