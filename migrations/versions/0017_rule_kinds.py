"""rule kinds: a rule's kind (share, person, rise, baseline) and its kind-specific parameters; an
alert's details (numbers and opaque ids only: a person alert's track_id and box)

Columns are added and dropped in place (no table rebuild), so the SQLite tables keep the
AUTOINCREMENT that 0012 gave them. Numbered 0015 but chained after 0017: it was written last.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 23:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    # Existing rules are share rules: today's behaviour, unchanged.
    op.add_column("alert_rules", sa.Column("kind", sa.String(length=16), server_default="share", nullable=False))
    op.add_column("alert_rules", sa.Column("params", sa.JSON(), nullable=True))
    op.add_column("alerts", sa.Column("details", sa.JSON(), nullable=True))


def downgrade():
    op.drop_column("alerts", "details")
    op.drop_column("alert_rules", "params")
    op.drop_column("alert_rules", "kind")
