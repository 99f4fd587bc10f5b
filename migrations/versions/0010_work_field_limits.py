"""A work's description holds at most 10,000 characters and a work at most 20 tags (CHECK
``description_length`` and ``tags_count`` on works).

These limits are those of ``kip/work_fields.py``, the one description of a work's fields
that the form, the API, the import and the service follow; before, the form took 5,000
characters, the API 10,000 and an import any number, and only the API limited the tags.
This constraint is the database's half of the same rule.

Works already past a limit are neither dropped nor changed silently. The description is cut
to its first 10,000 characters and the tags to the first 20, and each such work gets a new
version (a client holding the old one gets 412, not an overwrite), a history entry
(``work_changes``) by the actor below with the old and the new value - the full text stays
in the history - and an audit event (``work.fields_shortened``) saying why. The migration
logs how many works it changed.

Downgrade drops the constraints; the shortened values stay as they are (their history
holds the old ones).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 20:30:00
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# The limits as this revision fixes them in the database (kip.work_fields says the same;
# tests/test_work_fields.py proves the two agree).
DESCRIPTION_LENGTH = 10_000
TAG_COUNT = 20
CHECKS = {
    "description_length": f"length(description) <= {DESCRIPTION_LENGTH}",
    "tags_count": f"cardinality(tags) <= {TAG_COUNT}",
}
ACTOR = (
    f"system:migration 0010 (a description past {DESCRIPTION_LENGTH:,} characters or "
    f"more than {TAG_COUNT} tags shortened)"
)
REASON = (
    f"a work keeps at most {DESCRIPTION_LENGTH:,} characters of description and "
    f"{TAG_COUNT} tags; the rest was cut off (the full value is in the history)"
)

log = logging.getLogger("alembic.runtime.migration")

SHORTEN = f"""
WITH outside AS (
    SELECT id, description, tags FROM works
    WHERE NOT ({CHECKS["description_length"]} AND {CHECKS["tags_count"]})
),
moved AS (
    UPDATE works AS w SET
        description = left(w.description, {DESCRIPTION_LENGTH}),
        tags = w.tags[1:{TAG_COUNT}],
        version = w.version + 1,
        updated_at = now()
    FROM outside AS o
    WHERE w.id = o.id
    RETURNING w.id, w.organisation_id, w.version,
        jsonb_strip_nulls(jsonb_build_object(
            'description', CASE WHEN o.description <> w.description
                THEN jsonb_build_array(o.description, w.description) END,
            'tags', CASE WHEN o.tags <> w.tags
                THEN jsonb_build_array(to_jsonb(o.tags), to_jsonb(w.tags)) END
        )) AS changes
),
history AS (
    INSERT INTO work_changes (work_id, organisation_id, version, action, actor, changes)
    SELECT id, organisation_id, version, 'update', :actor, changes FROM moved
),
audited AS (
    INSERT INTO audit_events (actor, action, object_type, object_id, details)
    SELECT :actor, 'work.fields_shortened', 'work', id,
        jsonb_build_object(
            'fields', (SELECT jsonb_agg(k) FROM jsonb_object_keys(changes) AS k),
            'reason', CAST(:reason AS text))
    FROM moved
)
SELECT count(*) FROM moved
"""


def upgrade() -> None:
    conn = op.get_bind()
    moved = conn.execute(sa.text(SHORTEN), {"actor": ACTOR, "reason": REASON}).scalar_one()
    if moved:
        log.warning(
            "0010: %s work(s) had a description past %s characters or more than %s tags; "
            "it was shortened (see their history and audit events).",
            moved,
            f"{DESCRIPTION_LENGTH:,}",
            TAG_COUNT,
        )
    for name, condition in CHECKS.items():
        op.create_check_constraint(op.f(f"ck_works_{name}"), "works", condition)


def downgrade() -> None:
    for name in CHECKS:
        op.drop_constraint(op.f(f"ck_works_{name}"), "works", type_="check")
