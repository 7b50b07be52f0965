"""What opens the user's data or acts for them is theirs alone: KEEPWARM_HOME 0700, the SQLite
database and the key files 0600, and a digest preview with live signed links 0600, whatever
the umask; a home an older install left open is tightened."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from keepwarm.services.core.config import Settings
from tests.support.cli import run_cli


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The loosest umask a machine may have: files 0666 and folders 0777 unless we say so."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def test_home_database_keys_and_previews_are_private(tmp_path: Path, open_umask: None) -> None:
    settings = Settings(home=tmp_path / "home", database_url=None, redis_url=None)
    out = tmp_path / "previews" / "digest.html"
    run_cli(settings, "digest", "--preview", "--as-of", "2001-06-30", "--out", str(out))
    home = settings.home
    assert _mode(home) == 0o700
    assert _mode(home / "keepwarm.sqlite3") == 0o600
    assert _mode(home / "secret_key") == 0o600
    assert _mode(out) == 0o600
    for extra in ("keepwarm.sqlite3-wal", "keepwarm.sqlite3-shm"):
        if (home / extra).exists():
            assert _mode(home / extra) == 0o600, extra


def test_a_home_left_open_by_an_older_install_is_tightened(
    tmp_path: Path, open_umask: None
) -> None:
    settings = Settings(home=tmp_path / "home", database_url=None, redis_url=None)
    run_cli(settings, "contacts")
    home = settings.home
    # Given what an older keepwarm left: a 0755 home, a 0644 database and key file
    home.chmod(0o755)
    (home / "keepwarm.sqlite3").chmod(0o644)
    run_cli(settings, "digest", "--preview", "--as-of", "2001-06-30")
    (home / "secret_key").chmod(0o644)
    key = (home / "secret_key").read_text()
    # When it runs again
    run_cli(settings, "digest", "--preview", "--as-of", "2001-06-30")
    # Then everything is private again, and the key is the same one
    assert _mode(home) == 0o700
    assert _mode(home / "keepwarm.sqlite3") == 0o600
    assert _mode(home / "secret_key") == 0o600
    assert (home / "secret_key").read_text() == key


def test_a_preview_written_over_a_readable_file_becomes_private(
    tmp_path: Path, open_umask: None
) -> None:
    settings = Settings(home=tmp_path / "home", database_url=None, redis_url=None)
    out = tmp_path / "digest.html"
    out.write_text("previous-content-xyz")
    out.chmod(0o644)
    run_cli(settings, "digest", "--preview", "--as-of", "2001-06-30", "--out", str(out))
    assert _mode(out) == 0o600
    assert "previous-content-xyz" not in out.read_text()
