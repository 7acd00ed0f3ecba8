"""Alembic environment: runs revisions on the engine handed over by ``tradeguard.db.migrate``."""

from alembic import context
from sqlalchemy import Engine

from tradeguard import tables  # noqa: F401 - registers every table
from tradeguard.db.base import Base

engine: Engine = context.config.attributes["engine"]
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
