"""Alembic is the only source of the schema: migrating gives exactly the models' tables."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import keepwarm.services.models  # noqa: F401
from keepwarm.services.core.config import Settings
from keepwarm.services.core.db import Base, make_engine, migrate


def _diff(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        migrate(engine)
        migrate(engine)  # a second run is a no-op
        with engine.connect() as connection:
            return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))
    finally:
        engine.dispose()


def test_sqlite_schema_matches_models(tmp_path: Path) -> None:
    assert _diff(f"sqlite:///{tmp_path / 'db.sqlite3'}") == []


@pytest.mark.integration
def test_postgres_schema_matches_models(pg_url: str) -> None:
    settings = Settings.model_validate({"DATABASE_URL": pg_url})
    assert _diff(settings.sqlalchemy_url()) == []
