"""The double-entry cash journal, with opening entries for the cash accounts already hold.

Revision ID: 0018
Revises: 0013
Create Date: 2026-12-06
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the journal tables and bring existing balances into the journal."""
    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("reference", sa.String(length=96), nullable=True),
        sa.Column("account_id", sa.String(length=36), nullable=True),
        sa.Column("posted_at_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reference"),
    )
    op.create_index("ix_ledger_entries_account_id", "ledger_entries", ["account_id"])
    op.create_table(
        "ledger_lines",
        sa.Column("entry_id", sa.String(length=36), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("ledger_account", sa.String(length=64), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["entry_id"], ["ledger_entries.id"]),
        sa.PrimaryKeyConstraint("entry_id", "line"),
    )
    op.create_index("ix_ledger_lines_ledger_account", "ledger_lines", ["ledger_account"])
    _open_existing_balances()


def _open_existing_balances() -> None:
    """One opening entry per account that already holds cash (the firm's bank as source)."""
    connection = op.get_bind()
    accounts = connection.execute(
        sa.text(
            "SELECT id, settled_cash_cents, unsettled_cash_cents, updated_at_ns"
            " FROM trading_accounts"
            " WHERE settled_cash_cents <> 0 OR unsettled_cash_cents <> 0"
        )
    ).all()
    for account_id, settled, unsettled, at_ns in accounts:
        entry_id = str(uuid.uuid4())
        connection.execute(
            sa.text(
                "INSERT INTO ledger_entries (id, kind, reference, account_id, posted_at_ns)"
                " VALUES (:id, 'opening', :reference, :account, :at)"
            ),
            {
                "id": entry_id,
                "reference": f"opening:{account_id}",
                "account": account_id,
                "at": at_ns,
            },
        )
        lines = [
            (f"customer:{account_id}:settled", -settled),
            (f"customer:{account_id}:unsettled", -unsettled),
            ("firm:opening_balances", settled + unsettled),
        ]
        kept = [line for line in lines if line[1] != 0]
        for number, (ledger_account, amount) in enumerate(kept):
            connection.execute(
                sa.text(
                    "INSERT INTO ledger_lines (entry_id, line, ledger_account, amount_cents)"
                    " VALUES (:entry, :line, :account, :amount)"
                ),
                {"entry": entry_id, "line": number, "account": ledger_account, "amount": amount},
            )


def downgrade() -> None:
    """Drop the journal."""
    op.drop_table("ledger_lines")
    op.drop_table("ledger_entries")
