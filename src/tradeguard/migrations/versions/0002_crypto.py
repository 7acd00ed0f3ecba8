"""Key machinery: keysets, key versions, subject keys, signing keys, re-encryption progress.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the crypto tables."""
    op.create_table(
        "crypto_keysets",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.Column("kek_id", sa.String(length=128), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("updated_at_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_crypto_keysets")),
    )
    op.create_table(
        "crypto_key_versions",
        sa.Column("keyset_name", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("disabled_at_ns", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["keyset_name"],
            ["crypto_keysets.name"],
            name=op.f("fk_crypto_key_versions_keyset_name_crypto_keysets"),
        ),
        sa.PrimaryKeyConstraint("keyset_name", "key_id", name=op.f("pk_crypto_key_versions")),
    )
    op.create_table(
        "crypto_subject_keys",
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("data_class", sa.String(length=32), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=True),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("destroyed_at_ns", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("subject_id", "data_class", name=op.f("pk_crypto_subject_keys")),
    )
    op.create_table(
        "crypto_signing_keys",
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("algorithm", sa.String(length=16), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("wrapped_private_key", sa.LargeBinary(), nullable=False),
        sa.Column("kek_id", sa.String(length=128), nullable=False),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("retired_at_ns", sa.BigInteger(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_crypto_signing_keys")),
    )
    op.create_index(
        op.f("ix_crypto_signing_keys_purpose"), "crypto_signing_keys", ["purpose"], unique=False
    )
    op.create_table(
        "crypto_reencryption_progress",
        sa.Column("table_name", sa.String(length=128), nullable=False),
        sa.Column("column_name", sa.String(length=128), nullable=False),
        sa.Column("last_row_key", sa.String(length=64), nullable=False),
        sa.Column("rows_rewritten", sa.BigInteger(), nullable=False),
        sa.Column("updated_at_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "table_name", "column_name", name=op.f("pk_crypto_reencryption_progress")
        ),
    )


def downgrade() -> None:
    """Drop the crypto tables."""
    op.drop_table("crypto_reencryption_progress")
    op.drop_index(op.f("ix_crypto_signing_keys_purpose"), table_name="crypto_signing_keys")
    op.drop_table("crypto_signing_keys")
    op.drop_table("crypto_subject_keys")
    op.drop_table("crypto_key_versions")
    op.drop_table("crypto_keysets")
