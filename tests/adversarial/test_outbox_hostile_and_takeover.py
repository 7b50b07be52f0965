"""The outbox under hostile titles, odd transports and slow senders: a CR/LF in a meeting title,
a transport that fails in a way of its own, a sender whose claim was taken over. Each email ends
sent or failed (recorded, shown), never stuck in "sending", and never sent twice by a claim
that is no longer held."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from keepwarm.services.accounts.users import ensure_user
from keepwarm.services.core.config import Settings
from keepwarm.services.models import Delivery, DeliveryStatus, Event, EventAttendee
from keepwarm.services.notify import outbox
from keepwarm.services.notify.due import send_due_now
from keepwarm.services.notify.plan import plan_due
from keepwarm.services.notify.send import SendOutcome, send_delivery
from keepwarm.services.runtime import Runtime, build_runtime
from tests.support.builders import ME, Clock, attendees, calendar, event
from tests.support.cli import run_cli, run_json
from tests.support.hostile import BOUND_SECONDS
from tests.support.smtp import Received, mail_settings, smtp_server

DAY = datetime(2026, 11, 10, tzinfo=UTC)
AFTER = DAY + timedelta(hours=11, minutes=35)  # 35 minutes after the meeting ended
# A title as Google Calendar hands it over (any text, line breaks included); the .ics reader
# folds them, the Google connector keeps them
HOSTILE_TITLE = "Intro\r\nBcc: victim@elsewhere.example\nX-Evil: 1"


@pytest.fixture
def smtp() -> Iterator[tuple[int, Received]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def runtime(any_settings: Settings, smtp: tuple[int, Received]) -> Iterator[Runtime]:
    built = build_runtime(mail_settings(any_settings, smtp[0]))
    try:
        yield built
    finally:
        built.close()


def _one_prompt(runtime: Runtime, tmp_path: Path, title: str | None = None) -> None:
    path = tmp_path / "calendar.ics"
    ten = DAY + timedelta(hours=10)
    path.write_text(calendar(event("intro-1", "Intro", ten, 1, attendees("jane@acme.example"))))
    run_cli(runtime.settings, "import", str(path), "--me", ME)
    with runtime.session_factory() as session, session.begin():
        ensure_user(session).email = ME
        ensure_user(session).digests_enabled = False
        if title is not None:
            session.scalars(select(Event)).one().summary = title


def _statuses(runtime: Runtime) -> list[str]:
    with runtime.session_factory() as session:
        return [str(s) for s in session.scalars(select(Delivery.status))]


def test_cr_lf_in_a_meeting_title_is_one_subject_line_and_the_prompt_is_sent(
    runtime: Runtime, smtp: tuple[int, Received], tmp_path: Path
) -> None:
    _, received = smtp
    _one_prompt(runtime, tmp_path, HOSTILE_TITLE)
    started = time.monotonic()
    assert send_due_now(replace(runtime, clock=Clock(AFTER))) == [SendOutcome.SENT]
    assert time.monotonic() - started < BOUND_SECONDS
    [message] = received.to(ME)
    assert "\n" not in str(message["Subject"]) and "\r" not in str(message["Subject"])
    assert message["Bcc"] is None and message["X-Evil"] is None
    assert _statuses(runtime) == ["sent"]


class _BrokenTransport:
    """A transport failing in a way that is no SMTP refusal (a bug, an encoding error)."""

    def __init__(self) -> None:
        self.tried = 0

    def send(self, message: EmailMessage) -> None:
        self.tried += 1
        raise UnicodeEncodeError("ascii", "é", 0, 1, "no 8-bit here")


def test_a_transport_error_of_its_own_ends_the_attempt_failed_and_retried(
    runtime: Runtime, tmp_path: Path
) -> None:
    _one_prompt(runtime, tmp_path)
    rules = runtime.notify_rules
    with runtime.session_factory() as session, session.begin():
        [delivery_id] = plan_due(session, AFTER, rules)
    broken = _BrokenTransport()
    outcome = send_delivery(
        runtime.session_factory, delivery_id, broken, runtime.link_signer(), rules, Clock(AFTER)
    )
    assert outcome is SendOutcome.RETRY and broken.tried == 1
    with runtime.session_factory() as session:
        delivery = session.get(Delivery, delivery_id)
        assert delivery is not None
        assert delivery.status == DeliveryStatus.FAILED  # not "sending" forever
        assert "UnicodeEncodeError" in (delivery.last_error or "")
        assert delivery.retry_at is not None
    # The outbox retries it on the real transport later: sent once
    later = replace(runtime, clock=Clock(AFTER + timedelta(minutes=2)))
    assert send_due_now(later) == [SendOutcome.SENT]
    assert [p["status"] for p in run_json(runtime.settings, "prompts")] == ["sent"]


def test_a_sender_whose_claim_was_taken_over_cannot_fail_release_or_resend_it(
    runtime: Runtime, smtp: tuple[int, Received], tmp_path: Path
) -> None:
    _, received = smtp
    _one_prompt(runtime, tmp_path)
    rules = runtime.notify_rules
    with runtime.session_factory() as session, session.begin():
        [delivery_id] = plan_due(session, AFTER, rules)
        # Sender A claims it, then stalls (slow, not dead) past the claim timeout
        assert outbox.claim(session, delivery_id, AFTER, rules.outbox)
    later = AFTER + rules.outbox.claim_timeout + timedelta(seconds=1)
    # Sender B takes it over and sends it
    assert send_due_now(replace(runtime, clock=Clock(later))) == [SendOutcome.SENT]
    # When A wakes up and reports its own attempt as failed, complete or handed back
    with runtime.session_factory() as session, session.begin():
        assert (
            outbox.fail(session, delivery_id, later, "421", rules.outbox, claimed_at=AFTER) is None
        )
        assert not outbox.release(session, delivery_id, later, claimed_at=AFTER)
        assert not outbox.complete(
            session,
            delivery_id,
            later,
            claimed_at=AFTER,
            recipient=ME,
            status=DeliveryStatus.SKIPPED,
        )
    # Then B's record stands: sent, once, and nothing is due again
    assert _statuses(runtime) == ["sent"]
    assert send_due_now(replace(runtime, clock=Clock(later + timedelta(hours=3)))) == []
    assert len(received.to(ME)) == 1


def test_an_address_cannot_smuggle_recipients_into_a_mailto_link(
    runtime: Runtime, smtp: tuple[int, Received], tmp_path: Path
) -> None:
    _, received = smtp
    hostile = "jane@acme.example?bcc=me@evil.example&body=hi"
    _one_prompt(runtime, tmp_path)
    with runtime.session_factory() as session, session.begin():
        for attendee in session.scalars(select(EventAttendee)):
            if attendee.address == "jane@acme.example":
                attendee.address = hostile
    assert send_due_now(replace(runtime, clock=Clock(AFTER))) == [SendOutcome.SENT]
    [message] = received.to(ME)
    html = message.get_body(("html",))
    assert html is not None
    content = str(html.get_content())
    assert 'href="mailto:jane@acme.example%3Fbcc%3Dme@evil.example%26body%3Dhi"' in content
    hrefs = re.findall(r'href="(mailto:[^"]*)"', content)
    assert hrefs and not any("?" in href for href in hrefs)  # no header fields in any of them
