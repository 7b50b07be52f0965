"""Digests go out at each user's weekday and hour in their own zone, once per ISO week."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from keepwarm.services.models import Delivery, User
from keepwarm.services.notify.due import send_due_now
from keepwarm.services.notify.schedule import digest_slot
from keepwarm.services.runtime import Runtime
from tests.support.builders import Clock
from tests.support.smtp import Received

# Three zones, two DST changes inside the fortnight: Europe falls back on Sun 25 Oct 2026 at
# 03:00 CEST, the US on Sun 1 Nov at 02:00 EDT. Berlin's and New York's chosen hours are the
# very hours that repeat; Kolkata has no DST at all.
USERS = {
    "berlin@a.example": ("Europe/Berlin", 6, 2),
    "newyork@b.example": ("America/New_York", 6, 1),
    "kolkata@c.example": ("Asia/Kolkata", 2, 9),
}
START = datetime(2026, 10, 19, tzinfo=UTC)
END = START + timedelta(days=15)


def _add_users(factory: sessionmaker[Session], created: datetime) -> dict[str, int]:
    ids = {}
    with factory() as session, session.begin():
        for email, (zone, weekday, hour) in USERS.items():
            user = User(
                handle=email,
                email=email,
                timezone=zone,
                digest_weekday=weekday,
                digest_hour=hour,
                created_at=created,
            )
            session.add(user)
            session.flush()
            ids[email] = user.id
    return ids


def _tick(runtime: Runtime, now: datetime) -> list[str]:
    return send_due_now(replace(runtime, clock=Clock(now)))


def test_a_fortnight_across_two_dst_changes_gives_one_digest_a_week_at_the_local_hour(
    mail_runtime: Runtime, smtp: tuple[int, Received]
) -> None:
    _, received = smtp
    _add_users(mail_runtime.session_factory, START)
    now = START
    while now < END:
        _tick(mail_runtime, now)
        now += timedelta(minutes=15)

    expected = {
        # 02:00 on 25 Oct happens twice in Berlin: the first (CEST) is the one; 1 Nov is CET.
        "berlin@a.example": [
            datetime(2026, 10, 25, 0, tzinfo=UTC),
            datetime(2026, 11, 1, 1, tzinfo=UTC),
        ],
        # 01:00 on 1 Nov happens twice in New York: the first (EDT) is the one.
        "newyork@b.example": [
            datetime(2026, 10, 25, 5, tzinfo=UTC),
            datetime(2026, 11, 1, 5, tzinfo=UTC),
        ],
        "kolkata@c.example": [
            datetime(2026, 10, 21, 3, 30, tzinfo=UTC),
            datetime(2026, 10, 28, 3, 30, tzinfo=UTC),
        ],
    }
    with mail_runtime.session_factory() as session:
        rows = session.execute(
            select(User.email, Delivery.key, Delivery.status, Delivery.sent_at)
            .join(User, User.id == Delivery.user_id)
            .order_by(User.email, Delivery.key)
        ).all()
    for email, times in expected.items():
        mine = [r for r in rows if r.email == email]
        assert [r.status for r in mine] == ["sent", "sent"], mine
        assert [r.sent_at for r in mine] == times
        zone, weekday, hour = USERS[email]
        for sent in times:
            local = sent.astimezone(ZoneInfo(zone))
            assert (local.weekday(), local.hour) == (weekday, hour)
        assert len(received.to(email)) == 2
    assert len(received.messages) == 6


def test_the_week_is_the_users_own_not_utcs() -> None:
    # Monday 00:30 in Auckland is still Sunday in UTC: the user is already in the new week.
    zone = ZoneInfo("Pacific/Auckland")
    now = datetime(2026, 11, 22, 11, 30, tzinfo=UTC)  # Mon 23 Nov 00:30 NZDT
    slot = digest_slot(now, zone, 0, 0)
    assert slot.week == "2026-W48"
    assert slot.due_at == datetime(2026, 11, 22, 11, 0, tzinfo=UTC)


def test_a_skipped_spring_forward_hour_sends_just_after_the_gap() -> None:
    zone = ZoneInfo("Europe/Berlin")
    slot = digest_slot(datetime(2026, 3, 28, 12, tzinfo=UTC), zone, 6, 2)
    assert slot.due_at.astimezone(zone).hour == 3


def test_a_scheduler_down_past_the_catch_up_window_records_the_week_as_missed(
    mail_runtime: Runtime, smtp: tuple[int, Received]
) -> None:
    _, received = smtp
    ids = _add_users(mail_runtime.session_factory, START)
    # Kolkata's slot is Wed 21 Oct 03:30 UTC; nothing ran until Thursday.
    _tick(mail_runtime, datetime(2026, 10, 22, 3, 30, tzinfo=UTC))
    with mail_runtime.session_factory() as session:
        row = session.scalars(
            select(Delivery).where(Delivery.user_id == ids["kolkata@c.example"])
        ).one()
    assert (row.key, row.status) == ("2026-W43", "missed")
    assert "no scheduler ran" in (row.detail or "")
    assert received.to("kolkata@c.example") == []
    # Late but within the window: sent.
    _tick(mail_runtime, datetime(2026, 10, 28, 14, 0, tzinfo=UTC))
    assert len(received.to("kolkata@c.example")) == 1
