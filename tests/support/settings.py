"""Settings for tests: fixed keys (production refuses to start without them) and the
PostgreSQL + Redis shape a deployment has."""

from __future__ import annotations

from pathlib import Path

from keepwarm.services.core.config import Settings

__all__ = ["TEST_SECRET_KEY", "TEST_TOKEN_KEY", "keyed", "production_settings"]

TEST_TOKEN_KEY = "x3Oa5b5JmWZf7w3Gq8yBv2nq0d3Yk1HnM5m3p8QJX1Q="
TEST_SECRET_KEY = "test-secret-key-for-signed-links-0123456789"


def production_settings(home: Path, db_url: str, redis_base: str, namespace: str) -> Settings:
    """PostgreSQL + Redis settings with a token key, as a deployment would have."""
    return Settings.model_validate(
        {
            "home": home,
            "DATABASE_URL": db_url,
            "REDIS_URL": redis_base,
            "queue_namespace": namespace,
            "token_key": TEST_TOKEN_KEY,
            "secret_key": TEST_SECRET_KEY,
        }
    )


def keyed(settings: Settings) -> Settings:
    """`settings` with the test token key (connecting stores tokens encrypted)."""
    return settings.model_copy(update={"token_key": Settings(token_key=TEST_TOKEN_KEY).token_key})
