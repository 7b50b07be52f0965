"""Shared fixtures: real PostgreSQL and Redis, the shared data sets, and keepwarm settings.

PostgreSQL and Redis are the machine's local servers (TEST_DATABASE_URL / TEST_REDIS_URL
override them). Each test gets its own database, cloned from a template migrated once, and its
own Redis key namespace. When a server is missing the tests that need it skip with a plain
reason, except under CI=true, where they fail: CI must never pass by skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis

from keepwarm.services.core.config import Settings
from keepwarm.services.core.db import make_engine, migrate
from tests.support.paths import REPO
from tests.support.settings import production_settings
from tests.support.shifted import start_shift

IN_CI = os.environ.get("CI", "").lower() == "true"
ADMIN_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def pytest_configure(config: pytest.Config) -> None:
    """KEEPWARM_TEST_CLOCK_SHIFT_DAYS=N runs the suite with this process's clock N days ahead.

    Proof that no test builds its expectations from the wall clock: every date a test checks
    comes from an injected clock or from the data, so the suite passes on any day.
    """
    start_shift()  # child processes follow through tests.shifted.python_command


def pytest_report_header(config: pytest.Config) -> str | None:
    days = os.environ.get("KEEPWARM_TEST_CLOCK_SHIFT_DAYS")
    return f"clock shifted {days} days ahead (KEEPWARM_TEST_CLOCK_SHIFT_DAYS)" if days else None


def _unavailable(what: str, why: object) -> None:
    message = f"{what} is not reachable ({why}); start it or set the TEST_*_URL variable"
    if IN_CI:
        pytest.fail(f"CI=true: {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real third-party data beside the repo (../shared/data)."""
    path = Path(os.environ.get("KEEPWARM_SHARED_DATA", REPO.parent / "shared" / "data"))
    if not path.is_dir():
        if IN_CI:
            pytest.fail(f"CI=true: shared data missing at {path}", pytrace=False)
        pytest.skip(f"shared data not found at {path} (set KEEPWARM_SHARED_DATA)")
    return path


def _with_db(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A database migrated to head once per run, cloned by every PostgreSQL test."""
    name = f"kw_tmpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.Error as exc:
        _unavailable("PostgreSQL", str(exc).splitlines()[0])
        raise
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        engine = make_engine(
            _with_db(ADMIN_URL, name).replace("postgresql://", "postgresql+psycopg://")
        )
        migrate(engine)
        engine.dispose()
        try:
            yield name
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url(pg_template: str) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for one test."""
    name = f"kw_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
        try:
            yield _with_db(ADMIN_URL, name)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def redis_url() -> Iterator[tuple[str, str]]:
    """The Redis URL and a key namespace of this test's own, emptied afterwards."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        _unavailable("Redis", exc)
    namespace = f"kw-test-{uuid.uuid4().hex[:10]}"
    try:
        yield REDIS_URL, namespace
    finally:
        keys = list(client.scan_iter(f"{namespace}*"))
        if keys:
            client.delete(*keys)
        client.close()


@pytest.fixture
def embedded_settings(tmp_path: Path) -> Settings:
    """Settings for the embedded mode: SQLite under a temporary KEEPWARM_HOME."""
    return Settings(home=tmp_path / "home", database_url=None, redis_url=None)


@pytest.fixture(params=["sqlite", "postgres"])
def any_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """The same test on the embedded stack and on PostgreSQL + Redis."""
    if request.param == "sqlite":
        return Settings(home=tmp_path / "home", database_url=None, redis_url=None)
    url = request.getfixturevalue("pg_url")
    redis_base, namespace = request.getfixturevalue("redis_url")
    return production_settings(tmp_path / "home", url, redis_base, namespace)


_SERVER_FIXTURES = {"pg_url", "pg_template", "redis_url"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses a real server `integration`, however it asks for it."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        callspec = getattr(item, "callspec", None)
        uses_postgres_param = callspec is not None and "postgres" in callspec.id
        if names & _SERVER_FIXTURES or uses_postgres_param:
            item.add_marker(pytest.mark.integration)
