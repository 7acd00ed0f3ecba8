"""Order routing: one routing decision per order and the executions venues reported.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the routing tables."""
    op.create_table(
        "routing_decisions",
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("symbol", sa.String(length=16), nullable=False),
        sa.Column("side", sa.String(length=12), nullable=False),
        sa.Column("order_type", sa.String(length=8), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("venue", sa.String(length=16), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("nbbo_bid", sa.BigInteger(), nullable=True),
        sa.Column("nbbo_ask", sa.BigInteger(), nullable=True),
        sa.Column("sent_limit", sa.BigInteger(), nullable=True),
        sa.Column("pfof", sa.BigInteger(), nullable=False),
        sa.Column("access_fee", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("venue_text", sa.String(length=200), nullable=True),
        sa.Column("routed_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("acked_at_ns", sa.BigInteger(), nullable=True),
        sa.Column("done_at_ns", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_routing_decisions")),
    )
    for column in ("account_id", "venue", "status", "routed_at_ns"):
        op.create_index(op.f(f"ix_routing_decisions_{column}"), "routing_decisions", [column])
    op.create_table(
        "routing_fills",
        sa.Column("venue", sa.String(length=16), nullable=False),
        sa.Column("exec_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("midpoint_after", sa.BigInteger(), nullable=True),
        sa.Column("executed_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("venue", "exec_id", name=op.f("pk_routing_fills")),
    )
    op.create_index(op.f("ix_routing_fills_order_id"), "routing_fills", ["order_id"])


def downgrade() -> None:
    """Drop the routing tables."""
    op.drop_index(op.f("ix_routing_fills_order_id"), table_name="routing_fills")
    op.drop_table("routing_fills")
    for column in ("account_id", "venue", "status", "routed_at_ns"):
        op.drop_index(op.f(f"ix_routing_decisions_{column}"), table_name="routing_decisions")
    op.drop_table("routing_decisions")
