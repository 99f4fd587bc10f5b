"""The days KIP keeps: one range of dates, for every way in and for the database.

A work's or a dig ban's period is stored as two dates and as the ``daterange`` the database
generates from them (``period``). PostgreSQL takes dates up to the year 5874897, Python and
its driver only up to 9999-12-31: an end date of 9999-12-31 made a period that ends in the
year 10000, and every read of that row - the list of works, the work's page, even its
owner's DELETE - failed for everybody. So every stored day lies in a range:

- the database keeps every stored day within :data:`ENVELOPE` (1900-01-01 to 2199-12-31),
  by the CHECK constraint ``period_in_range`` on works and dig bans (migration 0008);
- a deployment may narrow the range with the settings ``DATE_MIN`` and ``DATE_MAX``; the
  configuration refuses a range wider than the envelope, whose days the database would
  refuse anyway (:func:`kip.config.load_config`);
- the app's sessions carry the deployment's range (:func:`allowed`), and every way in - the
  forms, the API, the draft check, the import, the CLI, the demo - asks it through
  :meth:`DateRange.problems`, which names the field it refuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


@dataclass(frozen=True)
class DateRange:
    """The days from ``first`` to ``last``, both included."""

    first: date
    last: date

    def __contains__(self, day: date) -> bool:
        return self.first <= day <= self.last

    def problems(self, **days: date | None) -> dict[str, str]:
        """A message for each named day outside the range (``None`` is not checked).

        >>> ENVELOPE.problems(start_date=date(2027, 3, 1), end_date=date(9999, 12, 31))
        {'end_date': '9999-12-31 is outside the dates KIP keeps (1900-01-01 to 2199-12-31)'}
        >>> ENVELOPE.problems(start_date=date(1900, 1, 1), end_date=date(2199, 12, 31))
        {}
        """
        return {
            name: f"{day.isoformat()} is outside the dates KIP keeps "
            f"({self.first.isoformat()} to {self.last.isoformat()})"
            for name, day in days.items()
            if day is not None and day not in self
        }

    def clip(self, day: date) -> date:
        """The day itself, or the nearest day of the range.

        >>> ENVELOPE.clip(date(9999, 12, 31))
        datetime.date(2199, 12, 31)
        """
        return min(max(day, self.first), self.last)

    def check_sql(self, *columns: str) -> str:
        """The SQL condition that ``columns`` (dates) lie in the range: a CHECK constraint.

        >>> ENVELOPE.check_sql("start_date")
        "start_date BETWEEN DATE '1900-01-01' AND DATE '2199-12-31'"
        """
        return " AND ".join(
            f"{column} BETWEEN DATE '{self.first.isoformat()}' AND DATE '{self.last.isoformat()}'"
            for column in columns
        )


# What the database accepts (its CHECK constraint). A wider envelope needs a migration that
# changes the constraint: see migrations/versions/0008_dates_in_range.py.
ENVELOPE = DateRange(date(1900, 1, 1), date(2199, 12, 31))

# Where a session keeps the deployment's range (see kip.db.Database).
SESSION_KEY = "kip.dates"


def allowed(session: Session) -> DateRange:
    """The range of dates the deployment keeps, as the app's sessions carry it; a session
    made outside an app (a test's, a script's) gets the database's envelope."""
    return session.info.get(SESSION_KEY, ENVELOPE)
