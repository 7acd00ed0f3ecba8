"""Sanctions screening: list versions with their entries, names, addresses and birth dates.

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None

VERSIONS = "sanctions_list_versions"


def _version_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["version_id"], [f"{VERSIONS}.id"], name=op.f(f"fk_{table}_version_id_{VERSIONS}")
    )


def upgrade() -> None:
    """Create the list tables."""
    op.create_table(
        VERSIONS,
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("list_name", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("loaded_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("loaded_by", sa.String(length=64), nullable=False),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.Column("alias_count", sa.Integer(), nullable=False),
        sa.Column("address_count", sa.Integer(), nullable=False),
        sa.Column("file_hashes", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{VERSIONS}")),
    )
    op.create_index(op.f(f"ix_{VERSIONS}_list_name"), VERSIONS, ["list_name"], unique=False)
    op.create_index(op.f(f"ix_{VERSIONS}_status"), VERSIONS, ["status"], unique=False)
    op.create_table(
        "sanctions_entries",
        sa.Column("version_id", sa.String(length=36), nullable=False),
        sa.Column("ent_num", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("programs", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("vessel", sa.Text(), nullable=True),
        sa.Column("remarks", sa.Text(), nullable=True),
        _version_fk("sanctions_entries"),
        sa.PrimaryKeyConstraint("version_id", "ent_num", name=op.f("pk_sanctions_entries")),
    )
    _child(
        "sanctions_names",
        "ix_sanctions_names_entry",
        sa.Column("alt_num", sa.String(length=16), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("remarks", sa.Text(), nullable=True),
    )
    _child(
        "sanctions_addresses",
        "ix_sanctions_addresses_entry",
        sa.Column("add_num", sa.String(length=16), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("city_state_postal", sa.Text(), nullable=True),
        sa.Column("country", sa.Text(), nullable=True),
        sa.Column("remarks", sa.Text(), nullable=True),
    )
    _child(
        "sanctions_birth_dates",
        "ix_sanctions_birth_dates_entry",
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("precision", sa.String(length=8), nullable=False),
    )


def _child(table: str, index: str, *columns: sa.Column[object]) -> None:
    """A table of rows belonging to one entry of one version."""
    op.create_table(
        table,
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("version_id", sa.String(length=36), nullable=False),
        sa.Column("ent_num", sa.String(length=16), nullable=False),
        *columns,
        _version_fk(table),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    )
    op.create_index(index, table, ["version_id", "ent_num"], unique=False)


def downgrade() -> None:
    """Drop the list tables."""
    for table, index in (
        ("sanctions_birth_dates", "ix_sanctions_birth_dates_entry"),
        ("sanctions_addresses", "ix_sanctions_addresses_entry"),
        ("sanctions_names", "ix_sanctions_names_entry"),
    ):
        op.drop_index(index, table_name=table)
        op.drop_table(table)
    op.drop_table("sanctions_entries")
    op.drop_index(op.f(f"ix_{VERSIONS}_status"), table_name=VERSIONS)
    op.drop_index(op.f(f"ix_{VERSIONS}_list_name"), table_name=VERSIONS)
    op.drop_table(VERSIONS)
