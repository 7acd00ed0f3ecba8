"""Suspicious activity reports drafted from cases; versions of the AML monitors' parameters.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the SAR and parameter tables."""
    op.create_table(
        "aml_sars",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("customer", sa.String(length=96), nullable=True),
        sa.Column("subject_name", sa.LargeBinary(), nullable=False),
        sa.Column("subject_dob", sa.LargeBinary(), nullable=False),
        sa.Column("subject_occupation", sa.LargeBinary(), nullable=False),
        sa.Column("narrative", sa.LargeBinary(), nullable=False),
        sa.Column("accounts", sa.Text(), nullable=False),
        sa.Column("typologies", sa.Text(), nullable=False),
        sa.Column("activity_from", sa.String(length=10), nullable=False),
        sa.Column("activity_to", sa.String(length=10), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("detected_on", sa.String(length=10), nullable=False),
        sa.Column("suspect_identified", sa.Boolean(), nullable=False),
        sa.Column("deadline", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("xml_sha256", sa.String(length=64), nullable=True),
        sa.Column("filed_on", sa.String(length=10), nullable=True),
        sa.Column("bsa_id", sa.String(length=14), nullable=True),
        sa.Column("prior_bsa_id", sa.String(length=14), nullable=True),
        sa.Column("created_by", sa.String(length=96), nullable=False),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("updated_at_ns", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_aml_sars_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_aml_sars")),
    )
    op.create_index(op.f("ix_aml_sars_case_id"), "aml_sars", ["case_id"])
    op.create_index(op.f("ix_aml_sars_deadline"), "aml_sars", ["deadline"])
    op.create_table(
        "aml_parameter_versions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("changed_by", sa.String(length=96), nullable=False),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_aml_parameter_versions")),
    )
    op.create_index(
        op.f("ix_aml_parameter_versions_created_at_ns"),
        "aml_parameter_versions",
        ["created_at_ns"],
    )


def downgrade() -> None:
    """Drop the SAR and parameter tables."""
    op.drop_index(
        op.f("ix_aml_parameter_versions_created_at_ns"), table_name="aml_parameter_versions"
    )
    op.drop_table("aml_parameter_versions")
    op.drop_index(op.f("ix_aml_sars_deadline"), table_name="aml_sars")
    op.drop_index(op.f("ix_aml_sars_case_id"), table_name="aml_sars")
    op.drop_table("aml_sars")
