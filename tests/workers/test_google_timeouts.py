"""Timeouts: Google calls that hang longer than the client waits fail as ProviderUnavailable,
the sync actor retries them, and the sync ends exactly where a fault-free run ends.

The readers here wait only TIMEOUT seconds (KEEPWARM_GOOGLE_TIMEOUT_SECONDS, 30 by
default); the sandbox holds the stalled requests far longer. Everything else is the
real path: OAuth, the Google client libraries, the sync actor on the broker (in process on
SQLite, Redis on PostgreSQL).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from keepwarm.connectors.sandbox.google import GoogleSandbox
from keepwarm.services.core.config import Settings
from keepwarm.services.core.jobs import Job
from keepwarm.services.models import Account, SyncRun
from keepwarm.services.runtime import build_runtime
from keepwarm.workers.actors import SYNC_ACCOUNT
from keepwarm.workers.broker import background
from tests.support.cli import run_json
from tests.support.paths import MAILBOX
from tests.support.settings import keyed
from tests.support.sync import QUERIES, connect

TIMEOUT = 1.0  # long enough for any sandbox answer, short for a test
STALL = 60.0  # how long the sandbox sits on a stalled request (it is woken when stopped)


def answers(settings: Settings) -> dict[tuple[str, ...], Any]:
    return {query: run_json(settings, *query) for query in QUERIES}


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, ...], Any]:
    """The queue and contacts after a fault-free sync of the same mailbox."""
    settings = keyed(
        Settings(home=tmp_path_factory.mktemp("clean"), database_url=None, redis_url=None)
    )
    with GoogleSandbox(list(MAILBOX)) as box:
        connect(settings, box)
    return answers(settings)


def sync_with_impatient_worker(settings: Settings) -> list[str]:
    """Run `sync.account` to the end on a worker whose readers time out after TIMEOUT;
    return the statuses of the account's sync runs, oldest first."""
    runtime = build_runtime(settings.model_copy(update={"google_timeout_seconds": TIMEOUT}))
    try:
        with runtime.session_factory() as session:
            account_id = session.scalars(select(Account.id)).one()
        with background(runtime) as bg:
            bg.sink.send(Job(SYNC_ACCOUNT, {"account_id": account_id}))
            bg.wait()
        with runtime.session_factory() as session:
            return list(session.scalars(select(SyncRun.status).order_by(SyncRun.id)))
    finally:
        runtime.close()


def test_calls_that_hang_past_the_timeout_are_retried_to_the_clean_state(
    any_settings: Settings, tmp_path: Path, clean: dict[tuple[str, ...], Any]
) -> None:
    settings = keyed(any_settings)
    with GoogleSandbox(list(MAILBOX)) as box:
        connect(settings, box, "--no-sync")
        # Given a Gmail batch and a Calendar call that the server sits on far past the timeout
        box.delay(STALL, count=1, path_prefix="/batch")
        box.delay(STALL, count=1, path_prefix="/calendar/")
        # When the worker syncs
        statuses = sync_with_impatient_worker(settings)
        # Then both stalls were met, each ending its run as a transient failure that the actor
        # retried (a slow machine may time out more often; the outcome must not change)
        assert box.pending_faults() == []
        assert statuses[-1] == "ok" and len(statuses) >= 3
        assert set(statuses[:-1]) == {"unavailable"}
    # And the end state is the fault-free one: nothing lost, nothing doubled
    assert answers(settings) == clean
    [account] = run_json(settings, "accounts")
    assert account["phase"] == "incremental" and account["last_run"]["status"] == "ok"
