"""Cell values as files give them (text, numbers, GDAL dates) turned into KIP's values.

Each parser returns the value or raises :class:`BadValue` with a message for the planner.
"""

from __future__ import annotations

import calendar
import math
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np

PRECISION_ORDER = ("day", "month", "quarter", "year")


class BadValue(ValueError):
    """A cell KIP cannot read; the message says what was expected."""


def is_blank(value: Any) -> bool:
    """Nothing in the cell: None, NaN, NaT or only spaces."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, np.datetime64):
        return bool(np.isnat(value))
    if isinstance(value, str):
        return not value.strip()
    return False


def text(value: Any) -> str:
    """A cell as text; whole numbers without ``.0`` (an id column read as a number)."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?$")
_DMY = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")
_YMD_SLASH = re.compile(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})$")
_MONTH = re.compile(r"^(\d{4})[-/](\d{1,2})$")
_MONTH_REV = re.compile(r"^(\d{1,2})[-/](\d{4})$")
_QUARTER = re.compile(r"^(\d{4})\s*[-/ ]?\s*[QK]([1-4])$")
_QUARTER_REV = re.compile(r"^[QK]([1-4])\s*[-/ ]?\s*(\d{4})$")
_YEAR = re.compile(r"^(\d{4})$")


def period_bounds(value: Any) -> tuple[date, date, str]:
    """The first and last day a cell stands for, and its precision.

    >>> period_bounds("2027-03-15")
    (datetime.date(2027, 3, 15), datetime.date(2027, 3, 15), 'day')
    >>> period_bounds("15-3-2027")[0]
    datetime.date(2027, 3, 15)
    >>> period_bounds("2027-02")
    (datetime.date(2027, 2, 1), datetime.date(2027, 2, 28), 'month')
    >>> period_bounds("2027-Q2")
    (datetime.date(2027, 4, 1), datetime.date(2027, 6, 30), 'quarter')
    >>> period_bounds("2028")
    (datetime.date(2028, 1, 1), datetime.date(2028, 12, 31), 'year')
    >>> period_bounds("next spring")
    Traceback (most recent call last):
    ...
    kip.io.values.BadValue: 'next spring' is not a date (use 2027-03-15, 15-03-2027, 2027-03, 2027-Q2 or 2027)
    """  # noqa: E501
    if isinstance(value, np.datetime64):
        value = value.astype("datetime64[D]").item()
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value, value, "day"
    if isinstance(value, int | float | np.integer | np.floating) and float(value).is_integer():
        value = str(int(value))
    raw = str(value).strip().upper()
    try:
        if m := _ISO.match(raw):
            day = date(int(m[1]), int(m[2]), int(m[3]))
            return day, day, "day"
        if m := _DMY.match(raw):
            day = date(int(m[3]), int(m[2]), int(m[1]))
            return day, day, "day"
        if m := _YMD_SLASH.match(raw):
            day = date(int(m[1]), int(m[2]), int(m[3]))
            return day, day, "day"
        if (m := _MONTH.match(raw)) or (m := _MONTH_REV.match(raw)):
            year, month = (int(m[1]), int(m[2])) if len(m[1]) == 4 else (int(m[2]), int(m[1]))
            last = calendar.monthrange(year, month)[1]
            return date(year, month, 1), date(year, month, last), "month"
        if (m := _QUARTER.match(raw)) or (m := _QUARTER_REV.match(raw)):
            year, quarter = (int(m[1]), int(m[2])) if len(m[1]) == 4 else (int(m[2]), int(m[1]))
            first_month = 3 * (quarter - 1) + 1
            last = calendar.monthrange(year, first_month + 2)[1]
            return date(year, first_month, 1), date(year, first_month + 2, last), "quarter"
        if m := _YEAR.match(raw):
            return date(int(m[1]), 1, 1), date(int(m[1]), 12, 31), "year"
    except ValueError:
        raise BadValue(f"{value!r} is not an existing date") from None
    raise BadValue(
        f"{value!r} is not a date (use 2027-03-15, 15-03-2027, 2027-03, 2027-Q2 or 2027)"
    )


def coarsest(*precisions: str) -> str:
    return max(precisions, key=PRECISION_ORDER.index)


_TRUE = {"1", "true", "t", "yes", "y", "ja", "j", "waar", "x"}
_FALSE = {"0", "false", "f", "no", "n", "nee", "onwaar", "-"}


def boolean(value: Any) -> bool:
    """Yes or no, in Dutch or English, as text, number or boolean.

    >>> boolean("Ja"), boolean("nee"), boolean(1), boolean(np.True_)
    (True, False, True, True)
    """
    if isinstance(value, bool | np.bool_):
        return bool(value)
    word = text(value).lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise BadValue(f"{value!r} is not yes or no (ja/nee, yes/no, true/false, 1/0)")


def decimal(value: Any) -> Decimal:
    """An amount, with a decimal point or a Dutch decimal comma.

    >>> decimal("1.234,50"), decimal("1234.5"), decimal(12.0)
    (Decimal('1234.50'), Decimal('1234.50'), Decimal('12.00'))
    """
    if isinstance(value, float | np.floating):
        raw = repr(float(value))
    else:
        raw = text(value).replace("€", "").replace(" ", "")
        if "," in raw:
            raw = raw.replace(".", "").replace(",", ".")
    try:
        amount = Decimal(raw).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise BadValue(f"{value!r} is not an amount") from None
    if not amount.is_finite():
        raise BadValue(f"{value!r} is not an amount")
    return amount


def tag_list(value: Any) -> list[str]:
    """Tags separated by ``;`` or ``,``.

    >>> tag_list("energietransitie; klimaatadaptatie")
    ['energietransitie', 'klimaatadaptatie']
    """
    return [t.strip() for t in re.split(r"[;,|]", text(value)) if t.strip()]
