"""Staff invitations: one-time enrolment links of the first administrator and of new staff.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the staff invitation table."""
    op.create_table(
        "staff_invites",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("email", sa.LargeBinary(), nullable=True),
        sa.Column("email_index", sa.LargeBinary(length=16), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("access_level", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("requested_by", sa.String(length=36), nullable=True),
        sa.Column("requested_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("decided_by", sa.String(length=36), nullable=True),
        sa.Column("decided_at_ns", sa.BigInteger(), nullable=True),
        sa.Column("link_digest", sa.LargeBinary(length=32), nullable=True),
        sa.Column("link_expires_at_ns", sa.BigInteger(), nullable=True),
        sa.Column("user_id", sa.String(length=36), nullable=True),
        sa.Column("redeemed_at_ns", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_staff_invites_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_invites")),
        sa.UniqueConstraint("link_digest", name=op.f("uq_staff_invites_link_digest")),
    )
    op.create_index(
        op.f("ix_staff_invites_email_index"), "staff_invites", ["email_index"], unique=False
    )
    op.create_index(op.f("ix_staff_invites_status"), "staff_invites", ["status"], unique=False)
    op.create_index(op.f("ix_staff_invites_user_id"), "staff_invites", ["user_id"], unique=False)


def downgrade() -> None:
    """Drop the staff invitation table."""
    op.drop_index(op.f("ix_staff_invites_user_id"), table_name="staff_invites")
    op.drop_index(op.f("ix_staff_invites_status"), table_name="staff_invites")
    op.drop_index(op.f("ix_staff_invites_email_index"), table_name="staff_invites")
    op.drop_table("staff_invites")
