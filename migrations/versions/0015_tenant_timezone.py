"""tenant time zone: events of no site (sign-ins, audit, webhook deliveries) are shown in it

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 23:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("timezone", sa.String(length=64), server_default="UTC", nullable=False))
    # An existing organisation starts in the zone of its first site, where its people most likely are.
    op.execute(
        "UPDATE tenants SET timezone = (SELECT sites.timezone FROM sites WHERE sites.tenant_id = tenants.id "
        "ORDER BY sites.id LIMIT 1) WHERE EXISTS (SELECT 1 FROM sites WHERE sites.tenant_id = tenants.id)"
    )


def downgrade():
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_column("timezone")
