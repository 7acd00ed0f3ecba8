"""Alembic revisions; loaded by path, never edited once released."""
