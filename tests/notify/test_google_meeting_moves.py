"""A meeting moved or cancelled in Google Calendar stays one meeting, and prompts accordingly."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from keepwarm.connectors.sandbox.google import GoogleSandbox
from keepwarm.connectors.sandbox.google.events import event_ids
from keepwarm.services.accounts.users import ensure_user
from keepwarm.services.core.config import Settings
from keepwarm.services.models import Event
from keepwarm.services.notify.due import send_due_now
from keepwarm.services.runtime import build_runtime
from tests.support.builders import ME, Clock
from tests.support.builders import attendees as _attendees
from tests.support.builders import calendar as _calendar
from tests.support.builders import event as _event
from tests.support.cli import run_cli
from tests.support.paths import ENRON
from tests.support.settings import keyed
from tests.support.smtp import Received, mail_settings
from tests.support.sync import connect

OWNER = "david.delainey@enron.com"
DAY = datetime(2026, 11, 10, tzinfo=UTC)


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[GoogleSandbox]:
    calendar = tmp_path / "meetings.ics"
    calendar.write_text(
        _calendar(
            _event(
                "tva-1",
                "TVA next steps",
                DAY + timedelta(hours=10),
                1,
                _attendees("oz@tva.example").replace(ME, OWNER),
            ),
            _event(
                "lunch-1",
                "Lunch with Carl",
                DAY + timedelta(hours=12),
                1,
                _attendees("carl@gmail.com").replace(ME, OWNER),
            ),
            _event(
                "weekly-1",
                "Acme weekly",
                DAY + timedelta(hours=14),
                1,
                _attendees("jane@acme.example").replace(ME, OWNER),
                "RRULE:FREQ=WEEKLY;COUNT=2\n",
            ),
        )
    )
    with GoogleSandbox([ENRON / "sent", calendar]) as running:
        yield running


def _id(uid: str) -> str:
    return event_ids(uid, DAY, recurring=False, all_day=False)


def test_a_moved_single_meeting_is_updated_not_doubled_and_prompts_after_its_new_end(
    any_settings: Settings, sandbox: GoogleSandbox, smtp: tuple[int, Received]
) -> None:
    port, received = smtp
    settings = mail_settings(keyed(any_settings), port)
    connect(settings, sandbox)
    sandbox.move_event(_id("tva-1"), DAY + timedelta(hours=15))
    sandbox.cancel_event(_id("lunch-1"))
    # One instance of a series: Calendar sends back only its ids and original start.
    sandbox.cancel_event(
        event_ids("weekly-1", DAY + timedelta(hours=14), recurring=True, all_day=False)
    )
    run_cli(settings, "sync", "--wait")

    runtime = build_runtime(settings)
    try:
        with runtime.session_factory() as session:
            rows = session.execute(
                select(Event.summary, Event.start, Event.cancelled).order_by(
                    Event.summary, Event.start
                )
            ).all()
            ensure_user(session).email = OWNER
            session.commit()
        assert [tuple(r) for r in rows] == [
            ("Acme weekly", DAY + timedelta(hours=14), True),
            ("Acme weekly", DAY + timedelta(days=7, hours=14), False),
            ("Lunch with Carl", DAY + timedelta(hours=12), True),
            ("TVA next steps", DAY + timedelta(hours=15), False),
        ]
        clock = Clock(DAY + timedelta(hours=11, minutes=35))
        timed = replace(runtime, clock=clock)
        assert send_due_now(timed) == []  # the old end: nothing; lunch: cancelled
        clock.now = DAY + timedelta(hours=16, minutes=35)
        assert [r for r in send_due_now(timed) if r == "sent"] == ["sent"]
    finally:
        runtime.close()
    assert [str(m["Subject"]) for m in received.to(OWNER) if "After" in str(m["Subject"])] == [
        "After “TVA next steps”: a note or a follow-up?"
    ]
