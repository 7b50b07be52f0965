"""Post-meeting prompts: which meetings prompt, once per occurrence, after the real end."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from keepwarm.services.accounts.users import ensure_user
from keepwarm.services.models import Delivery, Event
from keepwarm.services.notify.due import send_due_now
from keepwarm.services.runtime import Runtime
from tests.support.builders import ME, Clock, attendees, calendar, event, stamp
from tests.support.cli import run_cli, run_json
from tests.support.smtp import Received

DAY = datetime(2026, 11, 10, tzinfo=UTC)  # a Tuesday


def _meetings(moved_to: datetime | None = None, cancel_single: bool = False) -> str:
    ten = DAY + timedelta(hours=10)
    weekly_start = DAY - timedelta(days=7) + timedelta(hours=14)
    override = ""
    if moved_to is not None:
        override = event(
            "weekly-1",
            "Weekly with Acme",
            moved_to,
            1,
            attendees("jane@acme.example"),
            f"RECURRENCE-ID:{stamp(DAY + timedelta(hours=14))}\nSEQUENCE:1\n",
        )
    return calendar(
        event(
            "intro-1",
            "Intro with Acme",
            ten,
            1,
            attendees("jane@acme.example", "bob@corp.example"),
        ),
        event("team-1", "Team sync", ten, 1, attendees("bob@corp.example", "amy@corp.example")),
        event(
            "declined-1", "Vendor pitch", ten, 1, attendees("sales@vendor.example", me="DECLINED")
        ),
        event(
            "big-1",
            "All hands with partners",
            ten,
            1,
            attendees(*(f"p{i}@partner.example" for i in range(7))),
        ),
        "BEGIN:VEVENT\nUID:offsite-1\nSUMMARY:Offsite\nDTSTART;VALUE=DATE:20261110\n"
        f"DTEND;VALUE=DATE:20261111\nORGANIZER:mailto:{ME}\n{attendees('jane@acme.example')}\n"
        "END:VEVENT\n",
        event(
            "lunch-1",
            "Lunch with Carl",
            ten,
            1,
            attendees("carl@gmail.com"),
            "STATUS:CANCELLED\n" if cancel_single else "",
        ),
        event(
            "weekly-1",
            "Weekly with Acme",
            weekly_start,
            1,
            attendees("jane@acme.example"),
            "RRULE:FREQ=WEEKLY;COUNT=3\n",
        ),
        override,
    )


def _setup(runtime: Runtime, tmp_path: Path, ics: str) -> Path:
    path = tmp_path / "calendar.ics"
    path.write_text(ics)
    run_cli(runtime.settings, "import", str(path), "--me", ME)
    with runtime.session_factory() as session, session.begin():
        ensure_user(session).email = ME
        # Digests are not what this test is about: keep them out of the way.
        ensure_user(session).digests_enabled = False
    return path


def _subjects(received: Received) -> list[str]:
    return sorted(str(m["Subject"]) for m in received.to(ME))


def test_only_small_external_attended_meetings_prompt_once_each(
    mail_runtime: Runtime, smtp: tuple[int, Received], tmp_path: Path
) -> None:
    _, received = smtp
    _setup(mail_runtime, tmp_path, _meetings())
    clock = Clock(DAY + timedelta(hours=11, minutes=20))
    runtime = replace(mail_runtime, clock=clock)
    assert send_due_now(runtime) == []  # ended 20 minutes ago: the delay is 30
    clock.now = DAY + timedelta(hours=11, minutes=35)
    assert sorted(send_due_now(runtime)) == ["sent", "sent"]
    clock.now = DAY + timedelta(hours=15, minutes=35)
    assert send_due_now(runtime) == ["sent"]  # the weekly occurrence
    clock.now = DAY + timedelta(hours=20)
    assert send_due_now(runtime) == []
    assert _subjects(received) == [
        "After “Intro with Acme”: a note or a follow-up?",
        "After “Lunch with Carl”: a note or a follow-up?",
        "After “Weekly with Acme”: a note or a follow-up?",
    ]
    intro = next(m for m in received.to(ME) if "Intro" in str(m["Subject"]))
    body = intro.get_body(("plain",))
    assert body is not None
    text = str(body.get_content())
    # Who was there (the colleague too), and the four links for each.
    assert "jane@acme.example" in text and "bob@corp.example" in text
    assert text.count("https://kw.example/a/") == 8
    listed = run_json(runtime.settings, "prompts")
    assert sorted(p["status"] for p in listed) == ["sent", "sent", "sent"]


def test_a_moved_occurrence_prompts_after_its_new_end_and_a_cancelled_one_never(
    mail_runtime: Runtime, smtp: tuple[int, Received], tmp_path: Path
) -> None:
    _, received = smtp
    path = _setup(mail_runtime, tmp_path, _meetings())
    clock = Clock(DAY + timedelta(hours=9))
    runtime = replace(mail_runtime, clock=clock)
    # Before the meetings: the weekly occurrence moves from 14:00 to 17:00; lunch is off.
    path.write_text(_meetings(moved_to=DAY + timedelta(hours=17), cancel_single=True))
    run_cli(runtime.settings, "import", str(path), "--me", ME)
    for hour in (11.6, 15.6, 16.6, 18.0, 18.6, 23.0):
        clock.now = DAY + timedelta(hours=hour)
        send_due_now(runtime)
    assert _subjects(received) == [
        "After “Intro with Acme”: a note or a follow-up?",
        "After “Weekly with Acme”: a note or a follow-up?",
    ]
    weekly = next(m for m in received.to(ME) if "Weekly" in str(m["Subject"]))
    assert weekly["Date"].datetime >= DAY + timedelta(hours=18, minutes=30)


def test_a_meeting_moved_after_its_prompt_was_owed_waits_for_the_new_end(
    mail_runtime: Runtime, smtp: tuple[int, Received], tmp_path: Path
) -> None:
    _, received = smtp
    path = _setup(mail_runtime, tmp_path, _meetings())
    clock = Clock(DAY + timedelta(hours=11, minutes=35))
    runtime = replace(mail_runtime, clock=clock)
    assert send_due_now(runtime) == ["sent", "sent"]  # intro and lunch
    # The weekly occurrence's first try is refused by the mail server; then it moves.
    received.refuse_next.append("451 try later")
    clock.now = DAY + timedelta(hours=15, minutes=35)
    assert send_due_now(runtime) == ["retry"]
    path.write_text(_meetings(moved_to=DAY + timedelta(hours=17)))
    run_cli(runtime.settings, "import", str(path), "--me", ME)
    clock.now = DAY + timedelta(hours=15, minutes=40)
    assert send_due_now(runtime) == ["not due"]
    clock.now = DAY + timedelta(hours=18, minutes=35)
    send_due_now(runtime)
    clock.now = DAY + timedelta(hours=19)
    send_due_now(runtime)
    weekly = [m for m in received.to(ME) if "Weekly" in str(m["Subject"])]
    assert len(weekly) == 1
    with runtime.session_factory() as session:
        statuses = sorted(session.scalars(select(Delivery.status)))
    assert statuses == ["sent", "sent", "sent"]


def test_a_one_off_meeting_moved_in_a_re_exported_calendar_is_one_meeting(
    mail_runtime: Runtime, smtp: tuple[int, Received], tmp_path: Path
) -> None:
    # RFC 5545: the UID names the event; a re-export after the move carries the new DTSTART.
    _, received = smtp
    intro = event(
        "intro-9", "Intro with Acme", DAY + timedelta(hours=10), 1, attendees("jane@acme.example")
    )
    path = _setup(mail_runtime, tmp_path, calendar(intro))
    path.write_text(
        calendar(
            intro.replace(
                stamp(DAY + timedelta(hours=10)), stamp(DAY + timedelta(hours=16))
            ).replace(stamp(DAY + timedelta(hours=11)), stamp(DAY + timedelta(hours=17)))
        )
    )
    run_cli(mail_runtime.settings, "import", str(path), "--me", ME)
    with mail_runtime.session_factory() as session:
        starts = session.scalars(select(Event.start)).all()
    assert starts == [DAY + timedelta(hours=16)]
    clock = Clock(DAY + timedelta(hours=11, minutes=35))
    runtime = replace(mail_runtime, clock=clock)
    assert send_due_now(runtime) == []
    clock.now = DAY + timedelta(hours=17, minutes=35)
    assert send_due_now(runtime) == ["sent"]
    assert len(received.to(ME)) == 1
