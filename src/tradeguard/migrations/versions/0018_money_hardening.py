"""Money movement: when an ACH pull was written to a NACHA file for the bank.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``payment_deposits.sent_at_ns``."""
    op.add_column("payment_deposits", sa.Column("sent_at_ns", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    """Drop ``payment_deposits.sent_at_ns``."""
    with op.batch_alter_table("payment_deposits") as batch:
        batch.drop_column("sent_at_ns")
