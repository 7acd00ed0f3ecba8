"""AML follow-ups: a filed SAR's next continuing-activity review, a continuing SAR's prior.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

from datetime import date, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

CONTINUING_REVIEW_DAYS = 90


def upgrade() -> None:
    """Add the SARs' next review date and the link to the SAR a continuing one follows."""
    with op.batch_alter_table("aml_sars") as batch:
        batch.add_column(sa.Column("review_due", sa.String(length=10), nullable=True))
        batch.add_column(sa.Column("prior_sar_id", sa.String(length=36), nullable=True))
    op.create_index(op.f("ix_aml_sars_review_due"), "aml_sars", ["review_due"])
    _schedule_filed_sars()


def _schedule_filed_sars() -> None:
    """A SAR filed before this revision is reviewed 90 days after its filing."""
    connection = op.get_bind()
    filed = connection.execute(
        sa.text("SELECT id, filed_on FROM aml_sars WHERE filed_on IS NOT NULL")
    ).all()
    for sar_id, filed_on in filed:
        due = date.fromisoformat(filed_on) + timedelta(days=CONTINUING_REVIEW_DAYS)
        connection.execute(
            sa.text("UPDATE aml_sars SET review_due = :due WHERE id = :id"),
            {"due": due.isoformat(), "id": sar_id},
        )


def downgrade() -> None:
    """Drop the review date and the prior link."""
    op.drop_index(op.f("ix_aml_sars_review_due"), table_name="aml_sars")
    with op.batch_alter_table("aml_sars") as batch:
        batch.drop_column("prior_sar_id")
        batch.drop_column("review_due")
