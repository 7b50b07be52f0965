"""Bad input through the real process: one line naming the culprit, exit 2, no traceback."""

from __future__ import annotations

from pathlib import Path

from keepwarm.services.core.config import Settings
from tests.support.cli import assert_one_line_error, run_process
from tests.support.shifted import python_command


def test_missing_path(embedded_settings: Settings, tmp_path: Path) -> None:
    missing = tmp_path / "nope.mbox"
    proc = run_process(embedded_settings, "import", str(missing))
    assert proc.returncode == 2
    assert_one_line_error(proc.stderr, str(missing))


def test_unknown_format(embedded_settings: Settings, tmp_path: Path) -> None:
    weird = tmp_path / "photo.png"
    weird.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    proc = run_process(embedded_settings, "import", str(weird))
    assert proc.returncode == 2
    assert_one_line_error(proc.stderr, str(weird))


def test_bad_as_of_date(embedded_settings: Settings) -> None:
    proc = run_process(embedded_settings, "suggestions", "--as-of", "2001-13-45")
    assert proc.returncode == 2
    assert_one_line_error(proc.stderr, "--as-of", "2001-13-45")


def test_bad_me_address(embedded_settings: Settings, tmp_path: Path) -> None:
    eml = tmp_path / "a.eml"
    eml.write_text("From: a@example.com\nTo: b@example.com\nSubject: x\n\nbody\n")
    proc = run_process(embedded_settings, "import", str(eml), "--me", "not-an-address")
    assert proc.returncode == 2
    assert_one_line_error(proc.stderr, "--me", "not-an-address")


def test_unknown_contact(embedded_settings: Settings) -> None:
    proc = run_process(embedded_settings, "contact", "nobody@example.com")
    assert proc.returncode == 2
    assert_one_line_error(proc.stderr, "nobody@example.com")


def test_bad_setting_names_the_variable(embedded_settings: Settings) -> None:
    import os
    import subprocess

    env = dict(os.environ, KEEPWARM_HOME=str(embedded_settings.home), KEEPWARM_FLOOR_MONTHS="-1")
    proc = subprocess.run(
        python_command("-m", "keepwarm", "suggestions"),
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 2
    assert_one_line_error(proc.stderr, "floor_months")
