"""Alembic environment: runs against the engine handed over by keepwarm.services.core.db.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine, create_engine

import keepwarm.services.models  # noqa: F401  (registers every table on Base.metadata)
from keepwarm.services.core.db import Base

target_metadata = Base.metadata


def _engine() -> Engine:
    engine = context.config.attributes.get("engine")
    if engine is not None:
        return engine
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no engine or sqlalchemy.url given to Alembic")
    return create_engine(url)


def run_migrations_online() -> None:
    with _engine().connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite alters a table by copying it and dropping the old one, and with foreign
            # keys on, dropping a table first deletes its rows with ON DELETE CASCADE: every
            # child row (sync cursors, runs, messages) would go. Off for the migration only
            # (the pragma is ignored inside a transaction, so it goes first).
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")


run_migrations_online()
