"""Turn a file's columns into the fields of works, row by row problems included.

Pure: the reference lists (disciplines, phases) come in as arguments. Conversions run once
per distinct cell value (a 100,000-row file has a handful of disciplines), so a large file
costs little more than its number of rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from ..dates import ENVELOPE, DateRange
from ..errors import ValidationError
from ..models import Precision, TrafficImpact, Visibility
from ..work_fields import TEXT_LENGTHS, budget_problem, tag_problem, too_long
from . import values as v
from .columns import FIELD_NAMES, REQUIRED, VALUE_WORDS, Mapping, choose_columns, normalise
from .formulas import restore
from .readers import SourceTable

# KIP field -> the works column it is stored in.
ATTRIBUTE = {"discipline": "discipline_code", "phase": "phase_code"}
# What a field is when the file does not say (no column, or an empty cell).
DEFAULTS: dict[str, Any] = {
    "description": "",
    "excavation": False,
    "traffic_impact": "none",
    "visibility": "partners",
    "tags": [],
}


MISSING = {
    "external_ref": "the external reference is missing; KIP needs it to recognise the work "
    "when the file is imported again",
}


@dataclass
class Rows:
    """The works a file describes, column-wise; ``present`` names the fields the file gives."""

    count: int
    columns: dict[str, list[Any]]
    present: set[str]
    fields: dict[str, str]  # KIP field -> source column
    ignored: list[str]
    problems: dict[int, list[tuple[str, str]]] = field(default_factory=lambda: defaultdict(list))

    def add(self, index: int, field_name: str, message: str) -> None:
        self.problems[index].append((field_name, message))


class Words:
    """Turn a source word into a KIP code: the mapping's values, codes, labels, Dutch words."""

    def __init__(self, what: str, codes: dict[str, Iterable[str]], mapped: dict[str, str]):
        self.what = what
        self.codes = list(codes)
        self.table: dict[str, str] = {}
        for code, labels in codes.items():
            self.table[normalise(code)] = code
            for label in labels:
                self.table.setdefault(normalise(label), code)
        for word, code in VALUE_WORDS.get(what, {}).items():
            if code in codes:
                self.table.setdefault(word, code)
        self.exact = mapped
        self.mapped = {normalise(k): val for k, val in mapped.items()}

    def __call__(self, value: Any) -> str:
        raw = v.text(value)
        raw = self.exact.get(raw, self.mapped.get(normalise(raw), raw))
        code = self.table.get(normalise(raw))
        if code is None:
            raise v.BadValue(
                f"unknown {self.what.replace('_', ' ')} {raw!r}; known: {', '.join(self.codes)}"
            )
        return code


def convert_rows(
    table: SourceTable,
    mapping: Mapping,
    reference: dict[str, dict[str, Iterable[str]]],
    days: DateRange = ENVELOPE,
) -> Rows:
    """Read every row's fields; ``reference`` gives the discipline and phase codes with labels,
    ``days`` the dates KIP keeps (:func:`kip.dates.allowed`).

    A required field the file has no column (nor mapping default) for refuses the file
    as a whole; an empty or wrong cell is a problem of its row.
    """
    choice = choose_columns(
        list(table.columns), mapping, skip=[*table.skip_columns, *mapping.ignore]
    )
    for name in REQUIRED:
        if name not in choice.fields and mapping.defaults.get(name) is None:
            looked = ", ".join(FIELD_NAMES[name][:6])
            raise ValidationError(
                f"{table.filename} has no column for {name} (looked for {looked}, ...); name "
                f"it in a mapping file (columns: {{{name}: YOUR_COLUMN}})"
                + ("" if name == "external_ref" else " or give a default there"),
                errors={name: "no column"},
            )
    converters: dict[str, Callable[[Any], Any]] = {
        "external_ref": v.text,
        "title": v.text,
        "description": v.text,
        "contact_name": v.text,
        "contact_email": v.text,
        "contact_phone": v.text,
        "excavation": v.boolean,
        "budget": v.decimal,
        "tags": v.tag_list,
    }
    if table.kind == "CSV":
        # KIP's CSV export puts a quote before text a spreadsheet would run as a formula
        # (kip.io.formulas); it goes again, so that an export imports unchanged.
        for name, convert in list(converters.items()):
            if convert in (v.text, v.tag_list):
                converters[name] = _unquoted(convert)
    for name in ("discipline", "phase"):
        converters[name] = Words(name, reference[name], mapping.values.get(name, {}))
    for name, enum in (
        ("traffic_impact", TrafficImpact),
        ("visibility", Visibility),
        ("precision", Precision),
    ):
        converters[name] = Words(name, {e.value: () for e in enum}, mapping.values.get(name, {}))

    n = len(table)
    present = set(choice.fields) | {k for k, d in mapping.defaults.items() if d is not None}
    rows = Rows(n, {}, present, choice.fields, choice.ignored)
    for name, convert in converters.items():
        column = choice.fields.get(name)
        cells = _cells(table.columns[column], n) if column else [None] * n
        default = mapping.defaults.get(name)
        if default is not None:
            try:
                default = convert(default)
            except v.BadValue as exc:
                raise ValidationError(f"the mapping's default for {name}: {exc}") from None
        elif name in DEFAULTS:
            default = DEFAULTS[name]
        rows.columns[ATTRIBUTE.get(name, name)] = _convert(cells, convert, default, name, rows)
    _dates(table, choice.fields, mapping, rows, days)
    _checks(rows)
    return rows


def _unquoted(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def unquoted(value: Any) -> Any:
        return convert(restore(value) if isinstance(value, str) else value)

    return unquoted


def _cells(column: np.ndarray, n: int) -> list[Any]:
    if column.dtype.kind == "M":
        return column.astype("datetime64[D]").tolist()
    return column.tolist() if column.dtype != object else list(column)


def _convert(
    cells: list[Any],
    convert: Callable[[Any], Any],
    default: Any,
    name: str,
    rows: Rows,
) -> list[Any]:
    """Convert each distinct cell value once, then give every row its value."""

    def one(cell: Any) -> Any:
        if v.is_blank(cell):
            return default
        try:
            return convert(cell)
        except v.BadValue as exc:
            return exc

    try:
        # Keys are the cells themselves, so even a NaN (never equal to itself) is found
        # again by identity.
        memo = {cell: one(cell) for cell in dict.fromkeys(cells)}
        out = [memo[cell] for cell in cells]
        values: Iterable[Any] = memo.values()
    except TypeError:  # unhashable cells (a list in a GeoJSON property): one by one
        out = values = [one(cell) for cell in cells]
    if any(isinstance(result, v.BadValue) for result in values):
        for i, result in enumerate(out):
            if isinstance(result, v.BadValue):
                rows.add(i, name, str(result))
                out[i] = None
    if name == "tags":
        out = [list(r) if r is not None else None for r in out]
    return out


def _dates(
    table: SourceTable, fields: dict[str, str], mapping: Mapping, rows: Rows, days: DateRange
) -> None:
    n = rows.count
    bounds: dict[str, list[Any]] = {}
    for name in ("start_date", "end_date"):
        column = fields.get(name)
        cells = _cells(table.columns[column], n) if column else [None] * n
        default = mapping.defaults.get(name)
        memo: dict[Any, Any] = {}
        out: list[Any] = [None] * n
        for i, cell in enumerate(cells):
            if v.is_blank(cell):
                cell = default
                if cell is None:
                    continue
            try:
                result = memo[cell]
            except KeyError:
                try:
                    result = v.period_bounds(cell)
                except v.BadValue as exc:
                    result = exc
                memo[cell] = result
            if isinstance(result, v.BadValue):
                rows.add(i, name, str(result))
            else:
                out[i] = result
        bounds[name] = out
    given_precision = rows.columns["precision"]
    starts: list[date | None] = [None] * n
    ends: list[date | None] = [None] * n
    precisions: list[str | None] = [None] * n
    for i, (start, end) in enumerate(zip(bounds["start_date"], bounds["end_date"], strict=True)):
        if start is None:
            if not any(f == "start_date" for f, _ in rows.problems.get(i, ())):
                rows.add(i, "start_date", "the start date is missing")
            continue
        if end is None:
            if start[2] == "day":
                if not any(f == "end_date" for f, _ in rows.problems.get(i, ())):
                    rows.add(i, "end_date", "the end date is missing")
                continue
            end = start
        outside = days.problems(start_date=start[0], end_date=end[1])
        if end is start and "end_date" in outside:  # a month, quarter or year: one cell
            outside.setdefault("start_date", outside.pop("end_date"))
        if outside:
            for name, message in outside.items():
                rows.add(i, name, message)
            continue
        if end[1] < start[0]:
            rows.add(
                i,
                "end_date",
                f"the end ({end[1].isoformat()}) is before the start ({start[0].isoformat()})",
            )
            continue
        starts[i], ends[i] = start[0], end[1]
        precisions[i] = given_precision[i] or v.coarsest(start[2], end[2])
    rows.columns.update(start_date=starts, end_date=ends, precision=precisions)
    rows.present |= {"start_date", "end_date", "precision"}


def _checks(rows: Rows) -> None:
    """Required cells, what each field may hold (:mod:`kip.work_fields`), and the same
    external reference twice."""
    cols = rows.columns
    for name in ("external_ref", "title", "discipline_code", "phase_code"):
        for i in (i for i, value in enumerate(cols[name]) if value in (None, "")):
            label = {"discipline_code": "discipline", "phase_code": "phase"}.get(name, name)
            if not any(f == label for f, _ in rows.problems.get(i, ())):
                rows.add(i, label, MISSING.get(label, f"the {label} is missing"))
    for name in TEXT_LENGTHS:
        limit = TEXT_LENGTHS[name]
        for i, value in enumerate(cols[name]):
            if value is not None and len(value) > limit:
                rows.add(i, name, too_long(name, value) or "")
    for name, check in (("tags", tag_problem), ("budget", budget_problem)):
        for i, value in enumerate(cols[name]):
            problem = check(value)
            if problem:
                rows.add(i, name, problem)
    seen: dict[str, list[int]] = defaultdict(list)
    for i, ref in enumerate(cols["external_ref"]):
        if ref:
            seen[ref].append(i)
    for ref, indexes in seen.items():
        if len(indexes) > 1:
            for i in indexes:
                others = ", ".join(str(j + 1) for j in indexes if j != i)
                rows.add(
                    i, "external_ref", f"the external reference {ref!r} is also on row {others}"
                )
