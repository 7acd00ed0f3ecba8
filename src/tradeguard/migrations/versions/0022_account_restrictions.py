"""Account restrictions with holders: each restriction is lifted only by whoever placed it.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

EARLIER = "earlier"


def upgrade() -> None:
    """Create the restrictions; an account restricted before now holds one of ``earlier``.

    Whoever restricted it then is not known, so no holder's lifting frees it: staff do.
    """
    op.create_table(
        "account_restrictions",
        sa.Column(
            "account_id", sa.String(length=36), sa.ForeignKey("trading_accounts.id"),
            primary_key=True,
        ),
        sa.Column("holder", sa.String(length=32), primary_key=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("placed_by", sa.String(length=96), nullable=False),
        sa.Column("placed_at_ns", sa.BigInteger(), nullable=False),
    )  # fmt: skip
    op.execute(
        sa.text(
            "INSERT INTO account_restrictions (account_id, holder, reason, placed_by, placed_at_ns)"
            " SELECT id, :holder, :reason, :by, updated_at_ns FROM trading_accounts"
            " WHERE status = 'restricted'"
        ).bindparams(
            holder=EARLIER, reason="restricted before restrictions had holders", by="migration"
        )
    )


def downgrade() -> None:
    """Drop them again (the accounts' status is left as it is)."""
    op.drop_table("account_restrictions")
