"""Alembic environment: migrate the connection the store hands over (never a URL from a file).

:func:`scoring.store.Store.migrate` puts an open connection in ``config.attributes``; the
``alembic`` command line is not needed to run migrations.
"""

from __future__ import annotations

from alembic import context

from scoring.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only the store runs these migrations
    raise RuntimeError("run migrations through scoring.store.Store.migrate()")
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
