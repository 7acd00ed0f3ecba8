"""The cash journal (with opening entries for cash already held) and the payments tables.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
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
    _create_payments()


def _create_payments() -> None:
    """Bank links, deposits, withdrawals, idempotency keys and the holders' lock rows."""
    op.create_table(
        "payment_holders",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("updated_at_ns", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_table(
        "payment_bank_links",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("routing_number", sa.String(length=9), nullable=False),
        sa.Column("account_type", sa.String(length=8), nullable=False),
        sa.Column("account_number", sa.LargeBinary(), nullable=False),
        sa.Column("account_number_index", sa.LargeBinary(length=16), nullable=True),
        sa.Column("last4", sa.String(length=4), nullable=False),
        sa.Column("holder_name", sa.LargeBinary(), nullable=False),
        sa.Column("name_matches", sa.Boolean(), nullable=True),
        sa.Column("micro_amounts", sa.LargeBinary(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("verified_at_ns", sa.BigInteger(), nullable=True),
        sa.Column("removed_at_ns", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_payment_bank_links_user_id", "payment_bank_links", ["user_id"])
    op.create_index(
        "ix_payment_bank_links_account_number_index", "payment_bank_links", ["account_number_index"]
    )
    op.create_table(
        "payment_deposits",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("bank_link_id", sa.String(length=36), nullable=True),
        sa.Column("reference", sa.String(length=64), nullable=True),
        sa.Column("settles_on_day", sa.Integer(), nullable=True),
        sa.Column("return_code", sa.String(length=4), nullable=True),
        sa.Column("recorded_by", sa.String(length=96), nullable=False),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("settled_at_ns", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("user_id", "account_id", "status"):
        op.create_index(f"ix_payment_deposits_{column}", "payment_deposits", [column])
    op.create_table(
        "payment_withdrawals",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("bank_link_id", sa.String(length=36), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reviews_needed", sa.Integer(), nullable=False),
        sa.Column("reviewers", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(length=48), nullable=True),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("updated_at_ns", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("user_id", "account_id", "status"):
        op.create_index(f"ix_payment_withdrawals_{column}", "payment_withdrawals", [column])
    op.create_table(
        "payment_idempotency_keys",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "key"),
    )


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
    """Drop the payments tables and the journal."""
    for table in (
        "payment_idempotency_keys",
        "payment_withdrawals",
        "payment_deposits",
        "payment_bank_links",
        "payment_holders",
    ):
        op.drop_table(table)
    op.drop_table("ledger_lines")
    op.drop_table("ledger_entries")
