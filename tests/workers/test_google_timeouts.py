"""Timeouts: Google calls that hang longer than the client waits fail as ProviderUnavailable,
the sync actor retries them, and the sync ends exactly where a fault-free run ends.

The readers here wait only TIMEOUT seconds (production: connectors.google.translate.
HTTP_TIMEOUT); the sandbox holds the stalled requests far longer. Everything else is the
real path: OAuth, the Google client libraries, the sync actor on the broker (in process on
SQLite, Redis on PostgreSQL).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from connectors.google import CalendarReader, GmailReader
from connectors.google.auth import GrantedTokens
from connectors.sandbox.google import GoogleSandbox
from services.config import Settings
from services.jobs import Job
from services.models import Account, SyncRun
from services.sync import Sources
from tests.conftest import TEST_DATA, TEST_TOKEN_KEY
from tests.workers.cli_helpers import run_cli, run_json
from workers.actors import SYNC_ACCOUNT
from workers.broker import background
from workers.runtime import Runtime, build_runtime

ENRON = TEST_DATA / "enron" / "delainey-d"
QUERIES = (("suggestions", "--as-of", "2001-12-31", "--limit", "100"), ("contacts",))
TIMEOUT = 1.0  # long enough for any sandbox answer, short for a test
STALL = 60.0  # how long the sandbox sits on a stalled request (it is woken when stopped)


@dataclasses.dataclass(frozen=True)
class ImpatientRuntime(Runtime):
    """The worker's runtime with Google readers that wait only TIMEOUT seconds."""

    def open_sources(
        self, account: Account, tokens: dict[str, Any], on_call: Callable[[], None] = lambda: None
    ) -> Sources:
        client = self.google_client(account.api_base)
        creds = client.credentials(GrantedTokens.from_json(tokens))
        key = f"google:{account.email}"

        def spend(units: int) -> None:
            on_call()
            self.quota.spend(key, units)

        mail = GmailReader(creds, api_base=account.api_base, timeout=TIMEOUT, spend=spend)
        calendar = CalendarReader(creds, api_base=account.api_base, timeout=TIMEOUT)

        def close() -> None:
            mail.close()
            calendar.close()

        return Sources(mail, calendar, lambda: client.current_tokens(creds).to_json(), close)


def keyed(settings: Settings) -> Settings:
    return settings.model_copy(update={"token_key": Settings(token_key=TEST_TOKEN_KEY).token_key})


def connect(settings: Settings, sandbox: GoogleSandbox, *extra: str) -> None:
    since = ("--since", "1999-01-01")
    run_cli(settings, "connect", "google", "--sandbox", sandbox.url, *since, *extra)


def answers(settings: Settings) -> dict[tuple[str, ...], Any]:
    return {query: run_json(settings, *query) for query in QUERIES}


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, ...], Any]:
    """The queue and contacts after a fault-free sync of the same mailbox."""
    settings = keyed(
        Settings(home=tmp_path_factory.mktemp("clean"), database_url=None, redis_url=None)
    )
    with GoogleSandbox([ENRON]) as box:
        connect(settings, box)
    return answers(settings)


def sync_with_impatient_worker(settings: Settings) -> list[str]:
    """Run `sync.account` to the end on a worker whose readers time out after TIMEOUT;
    return the statuses of the account's sync runs, oldest first."""
    base = build_runtime(settings)
    runtime = ImpatientRuntime(**{f.name: getattr(base, f.name) for f in dataclasses.fields(base)})
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
    with GoogleSandbox([ENRON]) as box:
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
        assert set(statuses[:-1]) == {"ProviderUnavailable"}
    # And the end state is the fault-free one: nothing lost, nothing doubled
    assert answers(settings) == clean
    [account] = run_json(settings, "accounts")
    assert account["phase"] == "incremental" and account["last_run"]["status"] == "ok"
