"""Embedded defaults that just work: no key to export before `keepwarm connect`.

Without DATABASE_URL the token-encryption and link-signing keys are made on first use and kept
under KEEPWARM_HOME, readable only by the user; a damaged key file is named, never replaced.
"""

from __future__ import annotations

import stat
from pathlib import Path

from keepwarm.connectors.sandbox.google import GoogleSandbox
from keepwarm.services.core.config import Settings
from tests.support.cli import assert_one_line_error, run_json, run_process
from tests.support.paths import ENRON
from tests.support.sync import connect


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_connect_works_without_exporting_keys_and_keeps_them_private(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", database_url=None, redis_url=None)
    assert settings.token_key is None and settings.secret_key is None
    with GoogleSandbox([ENRON]) as sandbox:
        connect(settings, sandbox)
        [account] = run_json(settings, "accounts")
        assert account["status"] == "active" and account["messages"] > 50
        # A second run opens the stored tokens with the same kept key
        connect(settings, sandbox)
    home = settings.home
    assert _mode(home / "token_key") == 0o600
    key = (home / "token_key").read_text()
    assert len(key) == 44  # a Fernet key: 32 bytes, url-safe base64
    run_json(settings, "accounts")
    assert (home / "token_key").read_text() == key  # kept, never made anew


def test_an_empty_key_file_is_named_and_not_replaced(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", database_url=None, redis_url=None)
    settings.home.mkdir(mode=0o700)
    (settings.home / "secret_key").write_text("")
    proc = run_process(settings, "digest", "--preview")
    assert proc.returncode == 2
    assert_one_line_error(proc.stderr, str(settings.home / "secret_key"), "empty")
    assert (settings.home / "secret_key").read_text() == ""
