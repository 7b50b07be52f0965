"""Exactly once with real processes on PostgreSQL + Redis: two schedulers, a worker killed
in the middle of talking to the mail server, a moved and a cancelled meeting."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from keepwarm.services.accounts.users import ensure_user
from keepwarm.services.core.config import Settings
from keepwarm.services.models import Delivery, User
from keepwarm.services.runtime import Runtime, build_runtime
from tests.support.builders import ME
from tests.support.builders import attendees as _attendees
from tests.support.builders import calendar as _calendar
from tests.support.builders import event as _event
from tests.support.cli import run_cli
from tests.support.settings import production_settings
from tests.support.smtp import Received, mail_settings
from tests.support.sync import spawn, wait_for

ZONES = {"local": "Pacific/Auckland", "second": "America/Los_Angeles", "third": "Europe/Berlin"}
# Fast ticks; a claim counts as abandoned after 10 s (long enough that a live send on a
# busy 2-core machine is never taken over); prompts as soon as a meeting ends.
FAST = {
    "KEEPWARM_TICK_MINUTES": "0.02",
    "KEEPWARM_DELIVERY_CLAIM_MINUTES": "0.17",
    "KEEPWARM_PROMPT_DELAY_MINUTES": "0",
}


@pytest.fixture
def settings(
    pg_url: str, redis_url: tuple[str, str], tmp_path: Path, smtp: tuple[int, Received]
) -> Settings:
    base = production_settings(tmp_path / "home", pg_url, *redis_url)
    return mail_settings(base, smtp[0])


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in started:
        try:
            out, _ = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
        print(" ".join(map(str, proc.args)), "->", proc.returncode, "\n", out[-3000:])  # on failure


def _meetings(now: datetime) -> str:
    start = now.replace(microsecond=0)
    return _calendar(
        # A weekly meeting whose occurrence today moved from three hours ago to end in 20 s.
        _event(
            "weekly-1",
            "Weekly with Acme",
            start - timedelta(days=7, hours=3),
            1,
            _attendees("jane@acme.example"),
            "RRULE:FREQ=WEEKLY;COUNT=2\n",
        ),
        _event(
            "weekly-1",
            "Weekly with Acme",
            start - timedelta(minutes=40),
            2 / 3 + 20 / 3600,
            _attendees("jane@acme.example"),
            f"RECURRENCE-ID:{(start - timedelta(hours=3)).strftime('%Y%m%dT%H%M%SZ')}\n"
            "SEQUENCE:1\n",
        ),
        _event(
            "lunch-1",
            "Lunch with Carl",
            start - timedelta(hours=2),
            1,
            _attendees("carl@gmail.com"),
            "STATUS:CANCELLED\n",
        ),
    )


def test_two_schedulers_and_a_killed_worker_still_send_each_email_once(
    settings: Settings,
    smtp: tuple[int, Received],
    processes: list[subprocess.Popen[str]],
    tmp_path: Path,
) -> None:
    _, received = smtp
    now = datetime.now(UTC)
    calendar = tmp_path / "calendar.ics"
    calendar.write_text(_meetings(now))
    run_cli(settings, "import", str(calendar), "--me", ME)
    runtime = build_runtime(settings)
    try:
        _run(settings, runtime, received, processes, calendar, now)
    finally:
        runtime.close()


def _run(
    settings: Settings,
    runtime: Runtime,
    received: Received,
    processes: list[subprocess.Popen[str]],
    calendar: Path,
    now: datetime,
) -> None:
    moved_end = (
        now.replace(microsecond=0) - timedelta(minutes=40) + timedelta(hours=2 / 3 + 20 / 3600)
    )
    with runtime.session_factory() as session, session.begin():
        for handle, zone in ZONES.items():
            user = ensure_user(session, handle)
            local = now.astimezone(ZoneInfo(zone))
            # Each user's digest hour is the hour it is now where they live.
            user.email = ME if handle == "local" else f"{handle}@kw.example"
            user.timezone, user.digest_weekday, user.digest_hour = zone, local.weekday(), local.hour
            user.created_at = now - timedelta(days=30)

    received.hold = threading.Event()
    release = received.hold
    # One thread: when it is held in DATA, no other send of this worker can be between the
    # server's "250" and our record of it (the one window no claim can close; a resend then
    # carries the same Message-ID, which receiving servers use to drop the copy).
    first = spawn(settings, "worker", "--threads", "1", **FAST)
    processes.append(first)
    processes.extend(spawn(settings, "scheduler", **FAST) for _ in range(2))
    wait_for(received.holding.is_set, "a worker to be mid-send", timeout=60)
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    release.set()  # the mail server gives up on the dead connection: nothing was accepted
    processes.append(spawn(settings, "worker", "--threads", "2", **FAST))

    def all_sent() -> bool:
        with runtime.session_factory() as session:
            rows = session.execute(select(Delivery.kind, Delivery.status)).all()
        return len(rows) == 4 and all(status == "sent" for _, status in rows)

    wait_for(all_sent, "three digests and one prompt to be sent", timeout=90)
    # Proof the schedulers kept ticking afterwards: a new meeting ending now gets its prompt.
    later = datetime.now(UTC).replace(microsecond=0)
    calendar.write_text(
        _meetings(now)[: -len("END:VCALENDAR\n")]
        + _event(
            "call-1",
            "Call with Dana",
            later - timedelta(minutes=30),
            0.5,
            _attendees("dana@d.example"),
        )
        + "END:VCALENDAR\n"
    )
    run_cli(settings, "import", str(calendar), "--me", ME)
    wait_for(
        lambda: any("Dana" in str(m["Subject"]) for m in received.messages),
        "the later meeting's prompt",
        timeout=60,
    )

    with received.lock:
        subjects = [str(m["Subject"]) for m in received.messages]
        recipients = [str(m["To"]) for m in received.messages]
        arrived = dict(zip(subjects, received.arrived, strict=True))
    digests = [
        r
        for r, s in zip(recipients, subjects, strict=True)
        if "Prompt" not in s and "After" not in s
    ]
    assert sorted(digests) == sorted([ME, "second@kw.example", "third@kw.example"])
    assert sorted(s for s in subjects if s.startswith("After")) == [
        "After “Call with Dana”: a note or a follow-up?",
        "After “Weekly with Acme”: a note or a follow-up?",
    ]
    assert arrived["After “Weekly with Acme”: a note or a follow-up?"] >= moved_end
    with runtime.session_factory() as session:
        users = {u.id: u.handle for u in session.scalars(select(User))}
        rows = session.scalars(select(Delivery).where(Delivery.kind == "digest")).all()
    assert sorted(users[d.user_id] for d in rows) == sorted(ZONES)
    # One of them was the held send: claimed twice, sent once.
    assert (
        sorted(d.attempts for d in rows) in ([1, 1, 2], [1, 2, 2], [2, 2, 2])
        or max(d.attempts for d in rows) >= 2
    )
    runtime.close()
