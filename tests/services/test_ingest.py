"""Storing records: upserts on natural keys, and re-imports that change nothing."""

from __future__ import annotations

from pathlib import Path

from keepwarm.services.core.config import Settings
from tests.workers.cli_helpers import run_cli

EVENT = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//keepwarm tests//EN
BEGIN:VEVENT
UID:same-uid@keepwarm.test
DTSTART:20200310T180000Z
DTEND:20200310T190000Z
SUMMARY:{summary}
ORGANIZER;CN=Owner:mailto:owner@example.com
ATTENDEE;PARTSTAT=ACCEPTED;CN=Ann:mailto:ann@example.com
END:VEVENT
END:VCALENDAR
"""


def test_files_disagreeing_about_one_event_do_not_flip_on_reimport(tmp_path: Path) -> None:
    # Given two exports holding the same occurrence with different titles
    folder = tmp_path / "cal"
    folder.mkdir()
    (folder / "a.ics").write_text(EVENT.format(summary="Planning"))
    (folder / "b.ics").write_text(EVENT.format(summary="Planning (moved room)"))
    settings = Settings(home=tmp_path / "home")
    first = " ".join(run_cli(settings, "import", str(folder), "--me", "owner@example.com").split())
    assert "calendar events read 2 imported 1" in first
    # When imported again, then nothing is changed
    again = " ".join(run_cli(settings, "import", str(folder), "--me", "owner@example.com").split())
    assert "changed" not in again
    assert "calendar events read 2 imported 0" in again
