"""Alembic environment: runs on the connection the store hands over (never from a .ini file)."""

from __future__ import annotations

from alembic import context

from injection_cds.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "injection_cds migrations run through injection_cds.store.engine.Database.upgrade(), "
        "which passes its own connection"
    )

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
