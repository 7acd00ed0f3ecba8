"""Fraud follow-ups: the customers whose identity must be verified again after a recovery.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the re-verification table."""
    op.create_table(
        "fraud_reverifications",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("required_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("required_by", sa.String(length=36), nullable=False),
        sa.Column("verified_at_ns", sa.BigInteger(), nullable=True),
        sa.Column("verified_by", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_fraud_reverifications")),
    )


def downgrade() -> None:
    """Drop the re-verification table."""
    op.drop_table("fraud_reverifications")
