"""Dig bans proposed after a road work no longer name it.

Before, a proposed ban was titled "Graafverbod na <the work's title>" and gave as its reason
"new surface laid by work <id>"; every partner reads a ban, and the work may be
confidential. Bans whose words are still those KIP generated get the words a proposal now
gets: "Graafverbod" and the (at most two) streets the ban's area covers most, or
kip.config's DIG_BAN_TITLE where no street is known, and DIG_BAN_REASON with the default
three years. Words a coordinator typed are left alone. Each changed ban gets a new version
(an open edit form is told it is stale) and an audit record saying what was changed and why.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 19:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TITLE = "Graafverbod na nieuwe verharding"
REASON = "Nieuwe verharding: 3 jaar niet openbreken, behalve bij calamiteiten."


def upgrade() -> None:
    changed = (
        op.get_bind()
        .execute(
            sa.text(
                """
            WITH generated AS (
                SELECT b.id,
                       b.title = left('Graafverbod na ' || w.title, 200) AS title_generated,
                       b.reason = 'new surface laid by work ' || w.id AS reason_generated,
                       (SELECT string_agg(t.name, ', ' ORDER BY t.covered DESC, t.name)
                        FROM (SELECT s.name,
                                     sum(ST_Length(ST_Intersection(s.geom, b.geom))) AS covered
                              FROM streets s
                              WHERE ST_Intersects(s.geom, b.geom)
                              GROUP BY s.name
                              ORDER BY covered DESC, s.name
                              LIMIT 2) AS t) AS streets
                FROM dig_bans b JOIN works w ON w.id = b.source_work_id
            )
            UPDATE dig_bans b
            SET title = CASE
                    WHEN NOT g.title_generated THEN b.title
                    WHEN g.streets IS NOT NULL THEN left('Graafverbod ' || g.streets, 200)
                    ELSE :title
                END,
                reason = CASE WHEN g.reason_generated THEN :reason ELSE b.reason END,
                version = b.version + 1
            FROM generated g
            WHERE g.id = b.id AND (g.title_generated OR g.reason_generated)
            RETURNING b.id
            """
            ),
            {"title": TITLE, "reason": REASON},
        )
        .scalars()
        .all()
    )
    if changed:
        op.get_bind().execute(
            sa.text(
                """
                INSERT INTO audit_events (at, actor, action, object_type, object_id, details)
                SELECT now(), 'system:migration-0009', 'dig_ban.update', 'dig_ban', id,
                       jsonb_build_object('why', 'the words named the work it came from')
                FROM unnest(CAST(:ids AS bigint[])) AS id
                """
            ),
            {"ids": list(changed)},
        )


def downgrade() -> None:
    """The words that named the work are not brought back."""
