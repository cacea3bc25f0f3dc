"""observation frame id: the frame each observation came from, unique per camera, so that a frame handed to
a second worker after the first died mid-batch is never stored (or alerted on) twice

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    # Nullable: observations stored before this revision have no frame id (NULLs never collide).
    with op.batch_alter_table("observations") as batch:
        batch.add_column(sa.Column("frame_id", sa.String(length=32), nullable=True))
    op.create_index("uq_observations_camera_frame", "observations", ["camera_id", "frame_id"], unique=True)


def downgrade():
    op.drop_index("uq_observations_camera_frame", table_name="observations")
    with op.batch_alter_table("observations") as batch:
        batch.drop_column("frame_id")
