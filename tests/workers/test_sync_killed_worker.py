"""A worker killed with SIGKILL in the middle of a sync, and another started: nothing is lost.

Real processes on PostgreSQL and Redis: `keepwarm worker` subprocesses, the sandbox slowed so
the kill lands between two pages of the backfill. Nobody re-enqueues anything after the kill:
Dramatiq gives the dead worker's job back to its queue once the worker's heartbeat is older
than the broker's heartbeat timeout, and the account's lease, which names the dead process,
is free once that process has not shown it is alive for its liveness period. Both are set
short (`QUICK_RECOVERY`) so the test is quick; the design is the same with the defaults.
"""

from __future__ import annotations

from pathlib import Path

from keepwarm.connectors.sandbox.google import GoogleSandbox
from tests.support.paths import MAILBOX
from tests.support.settings import production_settings
from tests.support.sync import (
    GETS,
    QUICK_RECOVERY,
    CleanRun,
    assert_same_as_clean,
    connect,
    finish_with_new_worker,
    kill_worker_mid_sync,
    store,
)


def test_a_worker_killed_mid_sync_is_replaced_and_the_end_state_equals_a_clean_run(
    pg_url: str, redis_url: tuple[str, str], tmp_path: Path, clean_google_run: CleanRun
) -> None:
    settings = production_settings(tmp_path / "home", pg_url, *redis_url)
    with GoogleSandbox(list(MAILBOX)) as sandbox, store(settings) as db:
        connect(settings, sandbox, "--no-sync")
        # Every batch of message reads takes a second, so the backfill's pages land one by one
        sandbox.delay(1.0, count=50, path_prefix="/batch")
        kill_worker_mid_sync(settings, db, tmp_path / "first.log", **QUICK_RECOVERY)
        at_kill = db.messages()
        account = db.account()
        assert account is not None and not db.mail_caught_up(), "killed after the backfill"
        assert 0 < at_kill < clean_google_run.messages
        assert db.run_statuses() == ["running"]  # the dead worker never finished its run

        finish_with_new_worker(settings, db, tmp_path / "second.log", **QUICK_RECOVERY)
        log = (tmp_path / "second.log").read_text()
        assert "took over account:" in log, log  # the lease of the dead worker, not a new one
        assert db.run_statuses() == ["running", "ok"]
        # The second worker went on from the stored cursor: only messages of the page the kill
        # interrupted can have been fetched twice
        unstored = clean_google_run.messages - at_kill
        assert (
            clean_google_run.gets <= sandbox.call_counts()[GETS] <= clean_google_run.gets + unstored
        )
    assert_same_as_clean(settings, clean_google_run)
