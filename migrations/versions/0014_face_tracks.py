"""face tracks: people in view per observation (faces carry an anonymous track_id in their JSON)

The column is added and dropped in place (no table rebuild), so the SQLite table keeps the
AUTOINCREMENT that 0012 gave it.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 23:15:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("observations", sa.Column("people", sa.Integer(), nullable=True))


def downgrade():
    op.drop_column("observations", "people")
