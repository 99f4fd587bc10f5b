"""Every stored day lies from 1900-01-01 to 2199-12-31 (CHECK ``period_in_range``).

A work imported with the end date 9999-12-31 got a period (the generated daterange) that
ends in the year 10000, which psycopg cannot read: the list of works, the work's page and
even its owner's DELETE failed for everybody. The application refuses such dates on every
way in (``kip/dates.py``); this constraint, on works and dig bans, is the database's half
of the same rule. A deployment may narrow the range (``DATE_MIN``, ``DATE_MAX``), never
widen it past this constraint.

Rows already outside the range are neither dropped nor changed silently. Each date outside
it is set to the nearest day of the range (a work planned "until 9999-12-31" now runs until
2199-12-31), and:

- a work gets a new version (a client holding the old one gets 412, not an overwrite), a
  history entry (``work_changes``) by the actor below with the old and the new dates, and
  an audit event (``work.dates_clamped``) saying why;
- a dig ban gets a new version and an audit event (``dig_ban.dates_clamped``) with the old
  and the new dates and why.

The clashes of a changed work were computed with its old dates: when this migration logs
that it changed works, run ``kip clashes recompute`` after the upgrade.

Downgrade drops the constraints; the changed dates stay as they are (their history and
audit events hold the old ones).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 10:00:00
"""

from __future__ import annotations

import logging
from datetime import date

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# The range as this revision fixes it in the database (kip.dates.ENVELOPE says the same;
# tests/security/test_dates_in_range.py proves the two agree).
FIRST = date(1900, 1, 1)
LAST = date(2199, 12, 31)
CONDITION = (
    f"start_date BETWEEN DATE '{FIRST}' AND DATE '{LAST}'"
    f" AND end_date BETWEEN DATE '{FIRST}' AND DATE '{LAST}'"
)
ACTOR = f"system:migration 0008 (a date outside {FIRST} to {LAST} moved to the nearest day)"
REASON = (
    f"a date outside {FIRST} to {LAST} cannot be stored (a period ending after 9999-12-31 "
    "could not be read back); it was set to the nearest day KIP keeps"
)
TABLES = ("works", "dig_bans")

log = logging.getLogger("alembic.runtime.migration")


def _iso(column: str) -> str:
    """A date as the history writes it (YYYY-MM-DD), whatever the server's DateStyle."""
    return (
        f"CASE WHEN {column} < DATE '0001-01-01' THEN to_char({column}, 'YYYY-MM-DD BC')"
        f" ELSE to_char({column}, 'YYYY-MM-DD') END"
    )


# {field: [old, new]} for each date that moved, as the works' history records a change.
CHANGES = (
    "jsonb_strip_nulls(jsonb_build_object("
    f"'start_date', CASE WHEN old_start <> new_start"
    f" THEN jsonb_build_array({_iso('old_start')}, {_iso('new_start')}) END,"
    f" 'end_date', CASE WHEN old_end <> new_end"
    f" THEN jsonb_build_array({_iso('old_end')}, {_iso('new_end')}) END))"
)


def _clamp(table: str) -> str:
    """The rows of ``table`` outside the range, moved into it (version + 1), with their
    old and new dates (``old_start``, ``new_start``, ...) for the records below."""
    return f"""outside AS (
            SELECT id, start_date, end_date FROM {table} WHERE NOT ({CONDITION})
        ),
        moved AS (
            UPDATE {table} AS t SET
                start_date = LEAST(GREATEST(t.start_date, :first), :last),
                end_date = LEAST(GREATEST(t.end_date, :first), :last),
                version = t.version + 1,
                updated_at = now()
            FROM outside AS o
            WHERE t.id = o.id
            RETURNING t.id, t.organisation_id, t.version,
                o.start_date AS old_start, t.start_date AS new_start,
                o.end_date AS old_end, t.end_date AS new_end
        )"""


# The history entry of each work moved (works keep their field-by-field history).
HISTORY = f"""history AS (
    INSERT INTO work_changes (work_id, organisation_id, version, action, actor, changes)
    SELECT id, organisation_id, version, 'update', :actor, {CHANGES} FROM moved
)"""


def _audit(kind: str) -> str:
    """The audit event of each row moved: its old and new dates, and why."""
    return f"""audited AS (
        INSERT INTO audit_events (actor, action, object_type, object_id, details)
        SELECT :actor, '{kind}.dates_clamped', '{kind}', id,
            {CHANGES} || jsonb_build_object('reason', CAST(:reason AS text))
        FROM moved
    )"""


def upgrade() -> None:
    conn = op.get_bind()
    params = {"first": FIRST, "last": LAST, "actor": ACTOR, "reason": REASON}
    moved = {}
    for table, kind, records in (
        ("works", "work", [HISTORY, _audit("work")]),
        ("dig_bans", "dig_ban", [_audit("dig_ban")]),
    ):
        statement = f"WITH {', '.join([_clamp(table), *records])} SELECT count(*) FROM moved"
        moved[kind] = conn.execute(sa.text(statement), params).scalar_one()
    if any(moved.values()):
        log.warning(
            "0008: %s work(s) and %s dig ban(s) had a date outside %s to %s; it was set to "
            "the nearest day (see their history and audit events). Run `kip clashes "
            "recompute` to bring their clashes up to date.",
            moved["work"],
            moved["dig_ban"],
            FIRST,
            LAST,
        )
    for table in TABLES:
        op.create_check_constraint(op.f(f"ck_{table}_period_in_range"), table, CONDITION)


def downgrade() -> None:
    for table in TABLES:
        op.drop_constraint(op.f(f"ck_{table}_period_in_range"), table, type_="check")
