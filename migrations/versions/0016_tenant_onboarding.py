"""tenant onboarding: when a user of the organisation first opened the live room (a timestamp only)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 23:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("live_watched_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("onboarding_dismissed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_column("onboarding_dismissed_at")
        batch_op.drop_column("live_watched_at")
