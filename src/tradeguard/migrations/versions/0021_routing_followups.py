"""Routing follow-ups: each routed order's Rule 606 order type and the rebate it earns.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the order type and the rebate per share to the routing decisions."""
    with op.batch_alter_table("routing_decisions") as table:
        table.add_column(sa.Column("order_kind", sa.String(length=24), nullable=True))
        table.add_column(sa.Column("rebate", sa.BigInteger(), nullable=False, server_default="0"))


def downgrade() -> None:
    """Drop them again."""
    with op.batch_alter_table("routing_decisions") as table:
        table.drop_column("rebate")
        table.drop_column("order_kind")
