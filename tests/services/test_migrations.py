"""Alembic is the only source of the schema: migrating gives exactly the models' tables."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

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


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_connected_google_accounts_keep_their_cursors_across_0005(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # Given a database at 0004 with one account caught up and one mid-backfill
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    else:
        pg_url = request.getfixturevalue("pg_url")
        url = Settings.model_validate({"DATABASE_URL": pg_url}).sqlalchemy_url()
    engine = make_engine(url)
    try:
        migrate(engine, "0004")  # PostgreSQL's test database starts at head: down it goes
        with engine.begin() as c:
            c.execute(text("DELETE FROM accounts"))
            c.execute(
                text("INSERT INTO users (id, handle, created_at) VALUES (77, 'u77', :at)"),
                {"at": datetime(2026, 1, 1, tzinfo=UTC)},
            )
            for n, (phase, page, history, cursor, calendars) in enumerate(
                [
                    ("done", None, "1200", "1350", '{"primary": "tok-a"}'),
                    ("rest", "page-7", "900", None, None),
                ],
                start=1,
            ):
                c.execute(
                    text(
                        "INSERT INTO accounts (id, user_id, provider, email, status, scopes,"
                        " token_ciphertext, since, created_at, backfill_phase,"
                        " backfill_page_token, backfill_history_id, mail_cursor,"
                        " calendar_cursor) VALUES (:id, 77, 'google', :email, 'active', '',"
                        " '', :at, :at, :phase, :page, :history, :cursor, :calendars)"
                    ),
                    {
                        "id": n,
                        "email": f"a{n}@example.com",
                        "at": datetime(2026, 1, 1, tzinfo=UTC),
                        "phase": phase,
                        "page": page,
                        "history": history,
                        "cursor": cursor,
                        "calendars": calendars,
                    },
                )
            c.execute(
                text(
                    "INSERT INTO sync_runs (account_id, started_at, status, seen, imported,"
                    " events_seen, events_imported, failed) VALUES (1, :at, 'ok', 5, 5, 0, 0, 0)"
                ),
                {"at": datetime(2026, 1, 1, tzinfo=UTC)},
            )
            for mid, account in ((10, 1), (11, None)):  # one synced message, one imported
                c.execute(
                    text(
                        "INSERT INTO messages (id, user_id, fingerprint, recipient_count,"
                        " in_sent_folder, list_unsubscribe, auto_reply_header, derived,"
                        " account_id) VALUES (:id, 77, :fp, 1, false, false, false, false, :acc)"
                    ),
                    {"id": mid, "fp": f"fp{mid}", "acc": account},
                )
        # When it is migrated to head
        migrate(engine)
        # Then each goes on where it stood, with no cursor lost and none made up
        with engine.connect() as c:
            rows = c.execute(
                text(
                    "SELECT account_id, kind, stream, cursor, caught_up FROM sync_cursors"
                    " ORDER BY account_id, kind"
                )
            ).all()
            # SQLite rebuilds a table to drop columns: its children must survive the rebuild
            runs = c.execute(text("SELECT account_id, seen FROM sync_runs")).all()
            sources = c.execute(
                text("SELECT record_id, source, account_id FROM record_sources ORDER BY 1")
            ).all()
    finally:
        engine.dispose()
    assert [(r[0], r[1], r[2], json.loads(r[3]), bool(r[4])) for r in rows] == [
        (1, "calendar", "primary", {"page": None, "sync": "tok-a"}, True),
        (1, "mail", "gmail", {"history": "1350", "page": None, "phase": "history"}, True),
        (2, "mail", "gmail", {"history": "900", "page": "page-7", "phase": "rest"}, False),
    ]
    assert [tuple(r) for r in runs] == [(1, 5)]
    # and each message's source carries over to record_sources (0006)
    assert [tuple(r) for r in sources] == [(10, "account:1", 1), (11, "files", None)]
