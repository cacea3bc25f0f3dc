"""camera kinds: browser (a capture token) or stream (a source URL the gateway pulls)

Columns are added and dropped in place (no table rebuild), so the SQLite tables keep the
AUTOINCREMENT that 0012 gave them.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 22:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def columns() -> tuple[sa.Column, ...]:
    return (
        sa.Column("kind", sa.String(16), nullable=False, server_default="browser"),
        sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("source_url", sa.String(2048), nullable=True),
        sa.Column("credentials", sa.Text(), nullable=True),  # Fernet token of {"username", "password"}
        sa.Column("stream_status", sa.String(16), nullable=True),
        sa.Column("stream_error", sa.String(300), nullable=True),
        sa.Column("stream_status_at", sa.DateTime(timezone=True), nullable=True),
    )


def upgrade():
    for column in columns():
        op.add_column("cameras", column)


def downgrade():
    for column in reversed(columns()):
        op.drop_column("cameras", column.name)
