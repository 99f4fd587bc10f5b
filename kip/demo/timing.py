"""When demo works happen: periods snapped to their precision, and phases that fit the dates.

The demo plan describes the integrated plan as it stood on :data:`PLAN_DATE`, a fixed day,
so loading it gives the same phases whatever today is: works that ended before that day are
*completed*, works around it *in progress*, and the further away a work is, the vaguer it is
(known to the month, the quarter or only the year) and the earlier its phase.
"""

from __future__ import annotations

import calendar
import random
from datetime import date, timedelta

from ..models import Precision

WINDOW_START = date(2026, 1, 1)
WINDOW_END = date(2032, 12, 31)
PLAN_DATE = date(2026, 10, 1)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (or earlier), kept inside the month.

    >>> add_months(date(2027, 1, 31), 1)
    datetime.date(2027, 2, 28)
    >>> add_months(date(2027, 3, 15), -14)
    datetime.date(2026, 1, 15)
    """
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def snap(start: date, end: date, precision: Precision) -> tuple[date, date]:
    """Widen a period to whole months, quarters or years, and keep it inside the window.

    >>> snap(date(2028, 5, 17), date(2028, 8, 3), Precision.MONTH)
    (datetime.date(2028, 5, 1), datetime.date(2028, 8, 31))
    >>> snap(date(2028, 5, 17), date(2028, 8, 3), Precision.QUARTER)
    (datetime.date(2028, 4, 1), datetime.date(2028, 9, 30))
    >>> snap(date(2025, 11, 2), date(2026, 2, 3), Precision.YEAR)
    (datetime.date(2026, 1, 1), datetime.date(2026, 12, 31))
    >>> snap(date(2032, 11, 20), date(2033, 2, 10), Precision.YEAR)
    (datetime.date(2032, 1, 1), datetime.date(2032, 12, 31))
    """
    # Into the window first (a period running past its end moves back), then widen: the
    # month, quarter or year of a date inside the window lies inside it too.
    if end > WINDOW_END:
        start, end = start - (end - WINDOW_END), WINDOW_END
    start = max(start, WINDOW_START)
    end = max(end, start)
    if precision is Precision.MONTH:
        start = start.replace(day=1)
        end = end.replace(day=calendar.monthrange(end.year, end.month)[1])
    elif precision is Precision.QUARTER:
        start = date(start.year, (start.month - 1) // 3 * 3 + 1, 1)
        end = add_months(date(end.year, (end.month - 1) // 3 * 3 + 1, 1), 3) - timedelta(days=1)
    elif precision is Precision.YEAR:
        start, end = date(start.year, 1, 1), date(end.year, 12, 31)
    return start, end


def precision_for(rng: random.Random, start: date) -> Precision:
    """How exactly a work starting on ``start`` is known on the plan date."""
    months_ahead = (start.year - PLAN_DATE.year) * 12 + start.month - PLAN_DATE.month
    roll = rng.random()
    if months_ahead < 9:
        return Precision.DAY
    if months_ahead < 24:
        return Precision.MONTH if roll < 0.6 else Precision.DAY
    if months_ahead < 48:
        return Precision.QUARTER if roll < 0.6 else Precision.MONTH
    return Precision.YEAR if roll < 0.55 else Precision.QUARTER


def phase_for(rng: random.Random, start: date, end: date) -> str:
    """The phase a work with this period is in on the plan date."""
    if end < PLAN_DATE:
        return "completed"
    if start <= PLAN_DATE:
        return "in_progress"
    days_ahead = (start - PLAN_DATE).days
    roll = rng.random()
    if days_ahead < 180:
        return "final" if roll < 0.7 else "planned"
    if days_ahead < 730:
        return "planned" if roll < 0.7 else "design"
    if days_ahead < 1460:
        return "design" if roll < 0.6 else "initiative"
    return "initiative" if roll < 0.8 else "design"


def random_start(rng: random.Random) -> date:
    """A start date for a work, denser in the next years (plans thin out further ahead)."""
    year = rng.choices(range(2026, 2033), weights=(17, 20, 17, 14, 12, 10, 10))[0]
    return date(year, 1, 1) + timedelta(days=rng.randrange(365))
