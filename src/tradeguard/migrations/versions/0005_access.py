"""Access: staff access levels, time-limited grants, access alerts, runtime settings.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the access tables and the staff access level column."""
    op.create_table(
        "runtime_settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("updated_by", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_runtime_settings")),
    )
    op.create_table(
        "access_alerts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("staff_user_id", sa.String(length=36), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("raised_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("acknowledged_by", sa.String(length=36), nullable=True),
        sa.Column("acknowledged_at_ns", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_user_id"], ["users.id"], name=op.f("fk_access_alerts_staff_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_alerts")),
    )
    op.create_index(
        op.f("ix_access_alerts_raised_at_ns"), "access_alerts", ["raised_at_ns"], unique=False
    )
    op.create_index(
        op.f("ix_access_alerts_staff_user_id"), "access_alerts", ["staff_user_id"], unique=False
    )
    op.create_table(
        "access_grants",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("permission", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("duration_seconds", sa.Integer(), nullable=False),
        sa.Column("break_glass", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("decided_by", sa.String(length=36), nullable=True),
        sa.Column("decided_at_ns", sa.BigInteger(), nullable=True),
        sa.Column("expires_at_ns", sa.BigInteger(), nullable=True),
        sa.Column("revoked_at_ns", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_access_grants_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_grants")),
    )
    op.create_index(op.f("ix_access_grants_status"), "access_grants", ["status"], unique=False)
    op.create_index(op.f("ix_access_grants_user_id"), "access_grants", ["user_id"], unique=False)
    op.create_table(
        "role_changes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("access_level", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=36), nullable=False),
        sa.Column("requested_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("decided_by", sa.String(length=36), nullable=True),
        sa.Column("decided_at_ns", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_role_changes_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_role_changes")),
    )
    op.create_index(op.f("ix_role_changes_user_id"), "role_changes", ["user_id"], unique=False)
    op.create_table(
        "staff_data_access",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("staff_user_id", sa.String(length=36), nullable=False),
        sa.Column("subject_user_id", sa.String(length=36), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("at_ns", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_user_id"], ["users.id"], name=op.f("fk_staff_data_access_staff_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_data_access")),
    )
    op.create_index(
        op.f("ix_staff_data_access_at_ns"), "staff_data_access", ["at_ns"], unique=False
    )
    op.create_index(
        op.f("ix_staff_data_access_staff_user_id"),
        "staff_data_access",
        ["staff_user_id"],
        unique=False,
    )
    op.add_column("users", sa.Column("access_level", sa.String(length=16), nullable=True))


def downgrade() -> None:
    """Drop them."""
    op.drop_column("users", "access_level")
    op.drop_index(op.f("ix_staff_data_access_staff_user_id"), table_name="staff_data_access")
    op.drop_index(op.f("ix_staff_data_access_at_ns"), table_name="staff_data_access")
    op.drop_table("staff_data_access")
    op.drop_index(op.f("ix_role_changes_user_id"), table_name="role_changes")
    op.drop_table("role_changes")
    op.drop_index(op.f("ix_access_grants_user_id"), table_name="access_grants")
    op.drop_index(op.f("ix_access_grants_status"), table_name="access_grants")
    op.drop_table("access_grants")
    op.drop_index(op.f("ix_access_alerts_staff_user_id"), table_name="access_alerts")
    op.drop_index(op.f("ix_access_alerts_raised_at_ns"), table_name="access_alerts")
    op.drop_table("access_alerts")
    op.drop_table("runtime_settings")
