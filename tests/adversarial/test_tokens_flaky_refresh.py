"""A token endpoint that fails for a while (three 503s in a row) is an outage, not a revoked
grant: the sync is retried and the account stays active, through the real google-auth and
msal libraries against the sandboxes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from keepwarm.connectors.sandbox.google import GoogleSandbox
from keepwarm.connectors.sandbox.microsoft import MicrosoftSandbox
from keepwarm.services.core.config import Settings
from tests.support.cli import run_cli, run_json
from tests.support.hostile import run_as_operator
from tests.support.microsoft_sync import connect_microsoft
from tests.support.paths import ENRON
from tests.support.settings import keyed
from tests.support.sync import connect

# Each runs the CLI in fresh processes: in the slow tier, which CI runs.
pytestmark = pytest.mark.slow

# The libraries' own backoff (google-auth waits about 1 + 2 s between its three tries) and the
# worker's first retry fit well within this; a sync that hangs does not.
BOUND_SECONDS = 90.0


def _settings(tmp_path: Path) -> Settings:
    return keyed(Settings(home=tmp_path / "home", database_url=None, redis_url=None))


class _Later:
    """The sandbox's clock, which a test moves past the access token's lifetime: the next
    call is refused (401) and the client refreshes, as an hour later in production."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset


def _assert_still_active_and_read_whole(settings: Settings, out: str) -> None:
    [account] = run_json(settings, "accounts")
    assert account["status"] == "active", account
    assert account["last_run"]["status"] == "ok", account["last_run"]
    run = account["last_run"]
    # The whole mailbox was read: nothing skipped or failed (some of it is filtered by rule,
    # e.g. mail From the owner outside the sent folder, so stored is less than seen).
    assert run["seen"] > 50 and run["failed"] == 0 and run["skipped"] == {}, run
    assert account["messages"] > 0
    assert "reconnect" not in out


def test_three_503s_from_googles_token_endpoint_are_retried_not_reconnect_needed(
    tmp_path: Path,
) -> None:
    settings = _settings(tmp_path)
    later = _Later()
    with GoogleSandbox([ENRON], clock=later) as box:
        connect(settings, box, "--no-sync")
        # Given an access token that expired since the last sync
        later.offset = 7200.0
        box.fail_with_status(503, 3, path_prefix="/token")
        # When the token endpoint fails three times in a row during `keepwarm sync`
        started = time.monotonic()
        proc = run_as_operator(settings, "sync")
        elapsed = time.monotonic() - started
        assert box.pending_faults() == []  # every injected failure was met
    # Then the person saw one line about the retried outage, no traceback
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    [line] = [line for line in proc.stderr.splitlines() if line.strip()]
    assert "ProviderUnavailable" in line and "refresh" in line
    out = proc.stdout
    # And the account is still active and the retried run read the whole mailbox
    _assert_still_active_and_read_whole(settings, out)
    assert elapsed < BOUND_SECONDS


def test_three_503s_from_microsofts_token_endpoint_are_retried_not_reconnect_needed(
    tmp_path: Path,
) -> None:
    settings = _settings(tmp_path)
    later = _Later()
    with MicrosoftSandbox([ENRON], clock=later) as box:
        connect_microsoft(settings, box, "--no-sync")
        later.offset = 7200.0
        box.fail_with_status(503, 3, path_prefix="/common/oauth2/v2.0/token")
        started = time.monotonic()
        out = run_cli(settings, "sync")
        elapsed = time.monotonic() - started
        assert box.pending_faults() == []
    _assert_still_active_and_read_whole(settings, out)
    assert elapsed < BOUND_SECONDS
