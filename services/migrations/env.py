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
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
