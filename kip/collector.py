"""Python's cycle collector, paused while many objects that form no cycles are made."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Python's cycle collector paused while a town's (or an import's) worth of rows,
    geometries and arrays is made: none of them form cycles, yet the millions of
    allocations would set off collections that walk everything alive again and again (a
    fifth of reading and pairing a town of a million works, a quarter of importing
    100,000)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
