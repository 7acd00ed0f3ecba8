"""AML records kept five years: the SAR's retention end; CTRs as rows with theirs.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

RETENTION_OF_EXISTING_SARS = """
UPDATE aml_sars SET retain_until =
    CAST(CAST(SUBSTR(COALESCE(filed_on, detected_on), 1, 4) AS INTEGER) + 5 AS VARCHAR(4))
    || CASE WHEN SUBSTR(COALESCE(filed_on, detected_on), 5, 6) = '-02-29' THEN '-03-01'
            ELSE SUBSTR(COALESCE(filed_on, detected_on), 5, 6) END
"""
"""Five years from the filing, else from detection; a 29 February ends on 1 March."""


def upgrade() -> None:
    """Add the SARs' retention end; create the CTR table."""
    with op.batch_alter_table("aml_sars") as batch:
        batch.add_column(sa.Column("retain_until", sa.String(length=10), nullable=True))
    op.execute(RETENTION_OF_EXISTING_SARS)
    op.create_table(
        "aml_ctrs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("customer", sa.String(length=96), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("cash_in", sa.String(length=24), nullable=False),
        sa.Column("cash_out", sa.String(length=24), nullable=False),
        sa.Column("file", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("due", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("bsa_id", sa.String(length=14), nullable=True),
        sa.Column("filed_on", sa.String(length=10), nullable=True),
        sa.Column("retain_until", sa.String(length=10), nullable=False),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("updated_at_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_aml_ctrs")),
        sa.UniqueConstraint("customer", "day", name=op.f("uq_aml_ctrs_customer")),
    )
    op.create_index(op.f("ix_aml_ctrs_day"), "aml_ctrs", ["day"])


def downgrade() -> None:
    """Drop the CTR table and the SARs' retention end."""
    op.drop_index(op.f("ix_aml_ctrs_day"), table_name="aml_ctrs")
    op.drop_table("aml_ctrs")
    with op.batch_alter_table("aml_sars") as batch:
        batch.drop_column("retain_until")
