"""The end of retention of onboarding's documents and screening results, and its basis.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the retention columns."""
    with op.batch_alter_table("kyc_applications") as table:
        table.add_column(sa.Column("retention_basis", sa.String(length=96), nullable=True))
        table.add_column(sa.Column("screening_retain_until_ns", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("kyc_documents") as table:
        table.add_column(sa.Column("retain_until_ns", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    """Drop the retention columns."""
    with op.batch_alter_table("kyc_documents") as table:
        table.drop_column("retain_until_ns")
    with op.batch_alter_table("kyc_applications") as table:
        table.drop_column("screening_retain_until_ns")
        table.drop_column("retention_basis")
