"""Benchmark: one scheduler tick (which digests and prompts are due) for many users.

    python bench/notify_tick.py [--users 2000] [--database-url postgresql://postgres@127.0.0.1/postgres]

Builds a fresh database (a new PostgreSQL database beside the given one, or SQLite without
--database-url) with N users spread over five time zones and all 168 weekly digest hours, each
with their own address and eight meetings that ended in the last day (a third of them earn a
prompt). Then times, in one run:
- the anchor: the two queries any tick must at least make (every user; every meeting that
  ended in the prompt window, with its attendees);
- keepwarm's tick (`plan_due`) at a moment when the users whose hour it is are due: the first
  tick records what is owed; a second tick a minute later finds it already owed;
and prints each with its ratio to the anchor. A tick runs every 5 minutes, so its time is the
figure that must stay well below 300 s as users grow.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import psycopg  # noqa: E402
from sqlalchemy import select, text  # noqa: E402

from keepwarm.services.core.db import make_engine, make_session_factory, migrate  # noqa: E402
from keepwarm.services.mail.fingerprints import _digest  # noqa: E402
from keepwarm.services.models import Event, EventAttendee, OwnerAddress, User  # noqa: E402
from keepwarm.services.notify.plan import NotifyRules, plan_due  # noqa: E402

ZONES = ("Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Sydney", "UTC")
NOW = datetime(2026, 11, 23, 8, 2, tzinfo=UTC)  # a Monday, just after 08:00 UTC


def _database(url: str | None) -> tuple[str, str | None]:
    if url is None:
        return f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3", None
    name = f"kw_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = url.rsplit("/", 1)[0]
    return f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://"), name


def _populate(factory, users: int) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(7)
    with factory() as session, session.begin():
        for n in range(users):
            user = User(
                handle=f"user{n}",
                email=f"user{n}@org{n}.example",
                timezone=ZONES[n % len(ZONES)],
                digest_weekday=rng.randrange(7),
                digest_hour=rng.randrange(24),
                created_at=NOW - timedelta(days=60),
            )
            session.add(user)
            session.flush()
            me = f"user{n}@org{n}.example"
            session.add(OwnerAddress(user_id=user.id, address=me, source="given"))
            for m in range(8):
                end = NOW - timedelta(minutes=rng.randrange(35, 60 * 23))
                event = Event(
                    user_id=user.id,
                    fingerprint=_digest(f"u{n}e{m}", "x"),
                    uid=f"u{n}e{m}",
                    occurrence_start=end - timedelta(hours=1),
                    start=end - timedelta(hours=1),
                    end=end,
                    summary=f"meeting {m}",
                )
                session.add(event)
                session.flush()
                # A third meet someone outside; the rest only colleagues.
                others = [f"c{m}@org{n}.example"]
                if m % 3 == 0:
                    others.append(f"guest{m}@elsewhere{m}.example")
                for address in [me, *others]:
                    session.add(
                        EventAttendee(event_id=event.id, address=address, response="accepted")
                    )


def _anchor(factory, rules: NotifyRules) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    with factory() as session:
        session.execute(select(User)).all()
        latest = NOW - rules.prompt.delay
        session.execute(
            select(Event, EventAttendee)
            .join(EventAttendee, EventAttendee.event_id == Event.id)
            .where(Event.end <= latest, Event.end > latest - rules.prompt.window)
        ).all()
    return time.perf_counter() - start


def _tick(factory, at: datetime, rules: NotifyRules) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    with factory() as session, session.begin():
        due = plan_due(session, at, rules)
    return time.perf_counter() - start, len(due)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    url, created = _database(args.database_url)
    engine = make_engine(url)
    try:
        migrate(engine)
        factory = make_session_factory(engine)
        started = time.perf_counter()
        _populate(factory, args.users)
        print(
            f"{args.users} users, {8 * args.users} meetings: built in "
            f"{time.perf_counter() - started:.1f} s ({engine.dialect.name})"
        )
        rules = NotifyRules()
        anchor = min(_anchor(factory, rules) for _ in range(3))
        first, owed = _tick(factory, NOW, rules)
        again, _ = _tick(factory, NOW + timedelta(minutes=1), rules)
        with factory() as session:
            kinds = dict(
                session.execute(text("SELECT kind, count(*) FROM deliveries GROUP BY kind")).all()
            )
        print(f"anchor (read users and the window's meetings): {anchor:.3f} s")
        print(
            f"first tick:  {first:.3f} s = {first / anchor:.1f}x the anchor; "
            f"owed {kinds.get('digest', 0)} digests, {kinds.get('prompt', 0)} prompts; "
            f"{owed} to send"
        )
        print(f"second tick: {again:.3f} s = {again / anchor:.1f}x the anchor")
    finally:
        engine.dispose()
        if created is not None:
            with psycopg.connect(args.database_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE "{created}"')


if __name__ == "__main__":
    main()
