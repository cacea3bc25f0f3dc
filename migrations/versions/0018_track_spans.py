"""track spans: first and last time each anonymous face track was seen (people counts in reports)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 23:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "track_spans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("track_id", sa.String(length=32), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("frames", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["camera_id"], ["cameras.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("camera_id", "track_id", name="uq_track_spans_camera_track"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_track_spans_site_id", "track_spans", ["site_id"])
    op.create_index("ix_track_spans_tenant_last_seen", "track_spans", ["tenant_id", "last_seen"])


def downgrade():
    op.drop_index("ix_track_spans_tenant_last_seen", table_name="track_spans")
    op.drop_index("ix_track_spans_site_id", table_name="track_spans")
    op.drop_table("track_spans")
