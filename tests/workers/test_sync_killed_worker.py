"""A worker killed with SIGKILL in the middle of a sync, and another started: nothing is lost.

Real processes on PostgreSQL and Redis: `keepwarm worker` subprocesses, the sandbox slowed so
the kill lands between two pages of the backfill. Nobody re-enqueues anything after the kill:
Dramatiq gives the dead worker's job back to its queue once the worker's heartbeat is older
than the broker's heartbeat timeout, and the account's lease, which names the dead process,
is free once that process has not shown it is alive for its liveness period. Both are set
short here so the test is quick; the design is the same with the defaults.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from keepwarm.connectors.sandbox.google import GoogleSandbox
from tests.support.cli import run_cli
from tests.support.paths import MAILBOX
from tests.support.settings import production_settings
from tests.support.sync import (
    GETS,
    CleanRun,
    Store,
    assert_same_as_clean,
    connect,
    spawn,
    store,
    wait_for,
)

QUICK_RECOVERY = {
    "KEEPWARM_WORKER_LIVENESS_SECONDS": "1",
    "KEEPWARM_BROKER_HEARTBEAT_TIMEOUT_SECONDS": "3",
    # Look for dead workers on every broker command, not on one in a thousand
    "KEEPWARM_BROKER_MAINTENANCE_PER_MILLION": "1000000",
}


def _caught_up(db: Store) -> bool:
    """Backfill done, the latest run a success, and every message derived."""
    account = db.account()
    return (
        account is not None
        and db.mail_caught_up()
        and account.last_success_at is not None
        and account.last_sync_at == account.last_success_at
        and db.underived() == 0
    )


def _stop(proc: subprocess.Popen[str]) -> None:
    """Stop a worker the polite way (it finishes the job in hand), or kill it if it hangs."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_a_worker_killed_mid_sync_is_replaced_and_the_end_state_equals_a_clean_run(
    pg_url: str, redis_url: tuple[str, str], tmp_path: Path, clean_google_run: CleanRun
) -> None:
    settings = production_settings(tmp_path / "home", pg_url, *redis_url)
    with GoogleSandbox(list(MAILBOX)) as sandbox, store(settings) as db:
        connect(settings, sandbox, "--no-sync")
        # Every batch of message reads takes a second, so the backfill's pages land one by one
        sandbox.delay(1.0, count=50, path_prefix="/batch")
        first = spawn(
            settings, "worker", "--threads", "2", log=tmp_path / "first.log", **QUICK_RECOVERY
        )
        try:
            run_cli(settings, "sync")  # what the scheduler's tick does: enqueue, return
            wait_for(db.messages, "the first worker to store a page", timeout=60)
            os.kill(first.pid, signal.SIGKILL)
            first.wait(timeout=10)
        finally:
            if first.poll() is None:
                first.kill()
                first.wait()
        at_kill = db.messages()
        account = db.account()
        assert account is not None and not db.mail_caught_up(), "killed after the backfill"
        assert 0 < at_kill < clean_google_run.messages
        assert db.run_statuses() == ["running"]  # the dead worker never finished its run

        second = spawn(
            settings, "worker", "--threads", "2", log=tmp_path / "second.log", **QUICK_RECOVERY
        )
        try:
            wait_for(lambda: _caught_up(db), "the second worker to finish the sync", timeout=90)
        finally:
            _stop(second)
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
