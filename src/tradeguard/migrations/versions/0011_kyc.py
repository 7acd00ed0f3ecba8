"""Customer onboarding: account applications and identity documents.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the application and document tables."""
    op.create_table(
        "kyc_applications",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("answers", sa.LargeBinary(), nullable=False),
        sa.Column("tax_id", sa.LargeBinary(), nullable=True),
        sa.Column("tax_id_index", sa.LargeBinary(length=16), nullable=True),
        sa.Column("account_kind", sa.String(length=8), nullable=True),
        sa.Column("account_class", sa.String(length=16), nullable=True),
        sa.Column("agreements", sa.Text(), nullable=False),
        sa.Column("checks", sa.Text(), nullable=False),
        sa.Column("risk_level", sa.String(length=8), nullable=True),
        sa.Column("risk_factors", sa.Text(), nullable=False),
        sa.Column("screening", sa.Text(), nullable=False),
        sa.Column("first_approval_by", sa.String(length=36), nullable=True),
        sa.Column("decided_by", sa.String(length=36), nullable=True),
        sa.Column("decision_reason", sa.String(length=48), nullable=True),
        sa.Column("decision_note", sa.LargeBinary(), nullable=True),
        sa.Column("account_id", sa.String(length=36), nullable=True),
        sa.Column("retention_years", sa.Integer(), nullable=False),
        sa.Column("retain_until_ns", sa.BigInteger(), nullable=True),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("updated_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("submitted_at_ns", sa.BigInteger(), nullable=True),
        sa.Column("decided_at_ns", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_kyc_applications_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kyc_applications")),
        sa.UniqueConstraint("user_id", name=op.f("uq_kyc_applications_user_id")),
    )
    op.create_index(
        op.f("ix_kyc_applications_status"), "kyc_applications", ["status"], unique=False
    )
    op.create_index(op.f("ix_kyc_applications_tax_id_index"), "kyc_applications", ["tax_id_index"])
    op.create_table(
        "kyc_documents",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("application_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("side", sa.String(length=8), nullable=False),
        sa.Column("media_type", sa.String(length=32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("mrz", sa.LargeBinary(), nullable=True),
        sa.Column("mrz_result", sa.Text(), nullable=False),
        sa.Column("uploaded_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("retention_years", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["kyc_applications.id"],
            name=op.f("fk_kyc_documents_application_id_kyc_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_kyc_documents_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kyc_documents")),
    )
    op.create_index(op.f("ix_kyc_documents_application_id"), "kyc_documents", ["application_id"])
    op.create_index(op.f("ix_kyc_documents_user_id"), "kyc_documents", ["user_id"])


def downgrade() -> None:
    """Drop the onboarding tables."""
    op.drop_index(op.f("ix_kyc_documents_user_id"), table_name="kyc_documents")
    op.drop_index(op.f("ix_kyc_documents_application_id"), table_name="kyc_documents")
    op.drop_table("kyc_documents")
    op.drop_index(op.f("ix_kyc_applications_tax_id_index"), table_name="kyc_applications")
    op.drop_index(op.f("ix_kyc_applications_status"), table_name="kyc_applications")
    op.drop_table("kyc_applications")
