"""Orders indexed by status: the open ones are found without reading every order placed.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07
"""

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Index the orders' status (the desk's start and the expiry at the close read by it)."""
    op.create_index("ix_orders_status", "orders", ["status"])


def downgrade() -> None:
    """Drop the index."""
    op.drop_index("ix_orders_status", table_name="orders")
