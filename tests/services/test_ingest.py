"""Storing records: upserts on natural keys, and re-imports that change nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from keepwarm.services.accounts.users import ensure_user
from keepwarm.services.core.clock import fixed_clock
from keepwarm.services.core.db import make_engine, make_session_factory, migrate
from keepwarm.services.core.jobs import Job, unit_of_work
from keepwarm.services.mail.importing import ImportOptions, import_paths

NOW = datetime(2026, 11, 30, tzinfo=UTC)


class Jobs:
    def __init__(self) -> None:
        self.sent: list[Job] = []

    def send(self, job: Job) -> None:
        self.sent.append(job)


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
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    migrate(engine)
    factory = make_session_factory(engine)
    with unit_of_work(factory) as uow:
        user_id = ensure_user(uow.session).id
    options = ImportOptions(me=("owner@example.com",))
    first = import_paths(factory, user_id, [folder], options, Jobs(), fixed_clock(NOW))
    assert (first.events_seen, first.events_imported) == (2, 1)
    # When imported again, then nothing is changed
    again = import_paths(factory, user_id, [folder], options, Jobs(), fixed_clock(NOW))
    assert (again.events_seen, again.events_imported, again.events_updated) == (2, 0, 0)
    engine.dispose()
