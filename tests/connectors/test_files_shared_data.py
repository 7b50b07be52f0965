"""The readers over the whole shared data sets (../shared/data): nothing raises, nothing is lost.

Slow tier. `shared_data` (tests/conftest.py) finds the sets through KEEPWARM_SHARED_DATA or
beside the repository, skips when they are absent and fails instead under CI=true.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from keepwarm.connectors.files import read_paths, total_bytes
from keepwarm.connectors.types import CalendarEvent, MailMessage, Unreadable

pytestmark = pytest.mark.slow

WIDE = (datetime(1970, 1, 1, tzinfo=UTC), datetime(2040, 1, 1, tzinfo=UTC))
CALENDAR_WINDOW = (datetime(2010, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC))


def visible_files(root: Path) -> set[str]:
    """Every file a tree read sees: hidden files and folders are skipped."""
    return {
        str(path)
        for path in root.rglob("*")
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(root).parts)
    }


def read_all(root: Path, window: tuple[datetime, datetime] = WIDE) -> list[object]:
    consumed: list[int] = []
    records: list[object] = list(read_paths([root], window=window, progress=consumed.append))
    assert sum(consumed) == total_bytes([root])  # every byte of every file accounted for
    return records


def test_every_enron_file_is_one_record(shared_data: Path) -> None:
    root = shared_data / "enron"
    records = read_all(root)
    files = visible_files(root)
    assert all(isinstance(r, MailMessage | Unreadable) for r in records)
    sources = Counter(r.source for r in records if isinstance(r, MailMessage | Unreadable))
    assert set(sources) == files
    assert max(sources.values()) == 1
    messages = [r for r in records if isinstance(r, MailMessage)]
    assert len(messages) == len(files) == 8352  # every Enron file is a readable message
    assert all(m.sent_at is None or m.sent_at.tzinfo is UTC for m in messages)
    assert sum(m.sent_at is None for m in messages) < 20  # only the bogus 1979 dates
    in_sent = sum(m.in_sent_folder for m in messages if "/delainey-d/" in m.source)
    assert in_sent == 1814  # the README's count of delainey-d's sent folders


def test_whole_list_archive(shared_data: Path) -> None:
    archive = shared_data / "mailing-list" / "apparmor" / "apparmor.lists.ubuntu.com.mbox"
    records = read_all(archive)
    assert len(records) == 2837
    assert all(isinstance(r, MailMessage) and r.list_id for r in records)
    assert all(isinstance(r, MailMessage) and r.list_unsubscribe for r in records)
    via = [
        r
        for r in records
        if isinstance(r, MailMessage)
        and r.sender
        and (r.sender.name or "").endswith(" via AppArmor")
    ]
    assert len(via) == 68


def test_every_mime_file_is_one_record(shared_data: Path) -> None:
    root = shared_data / "mime"
    records = read_all(root)
    sources = Counter(r.source for r in records if isinstance(r, MailMessage | Unreadable))
    assert len(records) == sum(sources.values())
    assert set(sources) == visible_files(root)
    assert max(sources.values()) == 1
    unreadable = [r for r in records if isinstance(r, Unreadable)]
    # Licence files, READMEs, DKIM expectations and the like: not messages, and said so.
    assert 0 < len(unreadable) < len(records) / 4
    assert all(r.reason for r in unreadable)


def test_every_calendar_is_read_without_raising(shared_data: Path) -> None:
    root = shared_data / "calendars"
    records = read_all(root, CALENDAR_WINDOW)
    files = visible_files(root)
    for record in records:
        assert isinstance(record, CalendarEvent | Unreadable)
        assert record.source.split("#", 1)[0] in files
    events = [r for r in records if isinstance(r, CalendarEvent)]
    assert len(events) > 10_000
    for event in events:
        assert event.start.tzinfo is UTC and event.end.tzinfo is UTC
        assert event.start <= event.end
        assert event.end >= CALENDAR_WINDOW[0] and event.start <= CALENDAR_WINDOW[1]
    unreadable_files = {r.source.split("#", 1)[0] for r in records if isinstance(r, Unreadable)}
    broken = {
        "icalendar/calendars/issue_104_broken_calendar.ics",
        "icalendar/calendars/fuzz_testcase_invalid_month.ics",
        "icalendar/calendars/parsing_error_in_UTC_offset.ics",
        "icalendar/calendars/invalid_duration.ics",
    }
    assert {str(root / name) for name in broken} <= unreadable_files
    # The licences are files of the tree too, read as (unreadable) messages.
    assert str(root / "icaljs" / "LICENSE") in unreadable_files
