"""Alembic's entry point: run the migrations on the connection ``storage.migrate`` hands over.

It is run by ``storage.migrate.upgrade`` (``Database.open`` does so on first use), which puts
the connection in ``config.attributes["connection"]``; it does not open connections itself.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from storage.models import Base, include_name

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    include_name=include_name,  # autogenerate must not drop the search index
)
with context.begin_transaction():
    if connection.dialect.name == "postgresql":
        # Workers starting together on one database: one migrates, the others wait.
        connection.execute(text("SELECT pg_advisory_xact_lock(7364900021)"))
    context.run_migrations()
