"""ids never reused, foreign keys enforced, orphans removed, explicit site scopes, session versions

On SQLite every table with an integer id is rebuilt with AUTOINCREMENT, so that a deleted
row's id (a user's, a site's, a tenant's) is never issued again: tokens, sessions, rooms and
site scopes that named the old row can never name a new one. Rows that point at deleted parents
(left behind while SQLite ran without ``PRAGMA foreign_keys=ON``) are removed or nulled on both
databases, as the foreign keys' ON DELETE rules would have done.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 17:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# Tables with a single integer id, parents before children.
ID_TABLES = ("tenant_erasures", "tenants", "users", "webhooks", "api_tokens", "audit_entries", "sites", "cameras",
             "alert_rules", "observations", "report_schedules", "alerts", "generated_reports", "webhook_deliveries")

# (child table, column, parent table, ON DELETE rule), children of deleted parents first.
FOREIGN_KEYS = (
    ("users", "tenant_id", "tenants", "CASCADE"),
    ("webhooks", "tenant_id", "tenants", "CASCADE"),
    ("sites", "tenant_id", "tenants", "CASCADE"),
    ("cameras", "tenant_id", "tenants", "CASCADE"),
    ("cameras", "site_id", "sites", "CASCADE"),
    ("api_tokens", "tenant_id", "tenants", "CASCADE"),
    ("api_tokens", "user_id", "users", "CASCADE"),
    ("audit_entries", "tenant_id", "tenants", "CASCADE"),
    ("audit_entries", "actor_id", "users", "SET NULL"),
    ("sites", "purpose_declared_by", "users", "SET NULL"),
    ("user_sites", "user_id", "users", "CASCADE"),
    ("user_sites", "site_id", "sites", "CASCADE"),
    ("alert_rules", "tenant_id", "tenants", "CASCADE"),
    ("alert_rules", "site_id", "sites", "CASCADE"),
    ("alert_rules", "camera_id", "cameras", "CASCADE"),
    ("observation_rollups", "tenant_id", "tenants", "CASCADE"),
    ("observation_rollups", "site_id", "sites", "CASCADE"),
    ("observation_rollups", "camera_id", "cameras", "CASCADE"),
    ("observations", "tenant_id", "tenants", "CASCADE"),
    ("observations", "site_id", "sites", "CASCADE"),
    ("observations", "camera_id", "cameras", "CASCADE"),
    ("report_schedules", "tenant_id", "tenants", "CASCADE"),
    ("report_schedules", "site_id", "sites", "CASCADE"),
    ("report_schedules", "camera_id", "cameras", "CASCADE"),
    ("report_schedules", "created_by", "users", "SET NULL"),
    ("alerts", "tenant_id", "tenants", "CASCADE"),
    ("alerts", "site_id", "sites", "CASCADE"),
    ("alerts", "camera_id", "cameras", "CASCADE"),
    ("alerts", "rule_id", "alert_rules", "CASCADE"),
    ("alerts", "acknowledged_by", "users", "SET NULL"),
    ("generated_reports", "tenant_id", "tenants", "CASCADE"),
    ("generated_reports", "site_id", "sites", "CASCADE"),
    ("generated_reports", "camera_id", "cameras", "CASCADE"),
    ("generated_reports", "schedule_id", "report_schedules", "SET NULL"),
    ("webhook_deliveries", "tenant_id", "tenants", "CASCADE"),
    ("webhook_deliveries", "webhook_id", "webhooks", "CASCADE"),
    ("webhook_deliveries", "alert_id", "alerts", "SET NULL"),
)


def _remove_orphans() -> None:
    # Repeat until nothing changes: deleting an orphan site orphans its cameras, and so on.
    for _ in range(len(FOREIGN_KEYS)):
        changed = 0
        for child, column, parent, rule in FOREIGN_KEYS:
            orphan = f"{column} IS NOT NULL AND {column} NOT IN (SELECT id FROM {parent})"
            if rule == "CASCADE":
                result = op.get_bind().execute(sa.text(f"DELETE FROM {child} WHERE {orphan}"))
            else:
                result = op.get_bind().execute(sa.text(f"UPDATE {child} SET {column} = NULL WHERE {orphan}"))
            changed += result.rowcount or 0
        if not changed:
            return


def _rebuild_sqlite(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL sequences never hand out an id twice
    for table in ID_TABLES:
        with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}):
            pass


def upgrade():
    _remove_orphans()
    with op.batch_alter_table("users") as batch_op:
        # Sign-out and password reset bump it: every session cookie of an older version is void.
        batch_op.add_column(sa.Column("session_version", sa.Integer(), server_default="1", nullable=False))
        # Consecutive lockouts, for exponentially longer delays; reset by a successful sign-in.
        batch_op.add_column(sa.Column("lockouts", sa.Integer(), server_default="0", nullable=False))
        # True: every site of the tenant. A limited user whose last site is deleted sees none.
        batch_op.add_column(sa.Column("all_sites", sa.Boolean(), server_default=sa.true(), nullable=False))
    op.execute("UPDATE users SET all_sites = (id NOT IN (SELECT user_id FROM user_sites))")
    with op.batch_alter_table("webhooks") as batch_op:
        # The signing key is stored encrypted (a Fernet token is longer than the key).
        batch_op.alter_column("secret", type_=sa.String(400), existing_type=sa.String(80), existing_nullable=False)
    # Last: a batch operation above rebuilds its table as reflected, without AUTOINCREMENT.
    _rebuild_sqlite(autoincrement=True)


def downgrade():
    # webhooks.secret stays 400 long: encrypted keys would not fit back into 80 characters.
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("all_sites")
        batch_op.drop_column("lockouts")
        batch_op.drop_column("session_version")
    _rebuild_sqlite(autoincrement=False)
