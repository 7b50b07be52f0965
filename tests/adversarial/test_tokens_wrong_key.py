"""A wrong or missing token key: `keepwarm sync` says so in one line and stops (no retries, no
tracebacks), `keepwarm accounts` shows the account cannot be opened, and with the right key
back everything stored is there and syncs again."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from keepwarm.connectors.sandbox.google import GoogleSandbox
from keepwarm.services.core.config import Settings
from tests.support.cli import assert_one_line_error, run_json, run_process
from tests.support.paths import ENRON, SANDBOX_OWNER
from tests.support.settings import keyed
from tests.support.sync import connect

# Each runs the CLI in fresh processes: in the slow tier, which CI runs.
pytestmark = pytest.mark.slow

BOUND_SECONDS = 60.0


def _with_key(settings: Settings, key: str) -> Settings:
    return settings.model_copy(update={"token_key": Settings(token_key=key).token_key})


def _refused_sync(settings: Settings, *needles: str) -> None:
    started = time.monotonic()
    proc = run_process(settings, "sync")
    assert time.monotonic() - started < BOUND_SECONDS  # no endless retry
    assert proc.returncode == 2, proc.stderr
    assert_one_line_error(proc.stderr, *needles)


def test_a_wrong_token_key_stops_sync_with_one_line_and_accounts_tells(tmp_path: Path) -> None:
    right = keyed(Settings(home=tmp_path / "home", database_url=None, redis_url=None))
    wrong = _with_key(right, Fernet.generate_key().decode())
    with GoogleSandbox([ENRON]) as box:
        connect(right, box)
        [before] = run_json(right, "accounts")
        calls = sum(box.call_counts().values())
        # When sync runs with another key
        _refused_sync(wrong, "wrong KEEPWARM_TOKEN_KEY", SANDBOX_OWNER)
        assert sum(box.call_counts().values()) == calls  # nothing was asked of Google
        # Then `accounts` says the tokens cannot be opened, and why
        proc = run_process(wrong, "accounts", "--json")
        assert proc.returncode == 0, proc.stderr
        [shown] = json.loads(proc.stdout)
        assert shown["status"] == "token_key_mismatch"
        assert "cannot decrypt tokens: wrong KEEPWARM_TOKEN_KEY" in shown["status_reason"]
        assert shown["messages"] == before["messages"]
        table = run_process(wrong, "accounts")
        assert "mismatch" in table.stdout  # the status column (folded on a narrow terminal)
        # And with the right key nothing was lost and it syncs again
        proc = run_process(right, "sync")
        assert proc.returncode == 0, proc.stderr
    [after] = run_json(right, "accounts")
    assert after["status"] == "active"
    assert after["messages"] == before["messages"]
    assert after["last_run"]["status"] == "ok"


def test_a_lost_key_file_is_a_wrong_key_not_a_silent_new_start(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", database_url=None, redis_url=None)
    with GoogleSandbox([ENRON]) as box:
        connect(settings, box, "--no-sync")
        key_file = settings.home / "token_key"
        key = key_file.read_text()
        key_file.unlink()  # a restore that forgot the key
        _refused_sync(settings, "wrong KEEPWARM_TOKEN_KEY", str(key_file))
        [shown] = run_json(settings, "accounts")
        assert shown["status"] == "token_key_mismatch"
        key_file.write_text(key)  # the backup's key is put back
        proc = run_process(settings, "sync")
        assert proc.returncode == 0, proc.stderr
    [after] = run_json(settings, "accounts")
    assert after["status"] == "active" and after["messages"] > 50
