"""Each user's reconnect queue, kept a short while by the web process.

Building the queue reads every interaction of the user, summarises each contact and ranks the
due ones with the owner's learned model (about 4 s for 500,000 interactions), while a request
for one page of it should take milliseconds. A built queue is kept, and served only while it
cannot mislead:

- it is kept under a key naming everything it was built from besides the clock: the user's
  newest interaction id (a sync, an import, "talked elsewhere" all add one), newest answer id
  (answers are an append-only log), exclusions and rules; each request reads that key (three
  index probes) and a different key builds the queue afresh, so anything the user does, and
  any new mail, shows on the next request; requests for the same user wait for that one
  build instead of each making their own;
- it is never served for a moment before the one it was built for (no later data leaks into
  an `--as-of` view) and, with the key unchanged, for at most `seconds` after: then it is
  still served, for at most three times as long, while one background thread builds the next,
  so no request waits on a build that nothing asked for. What no key shows (a merge of two
  people, an account purged by another process, a snooze running out) shows that late at most;
- deleting data through the web app (a purged account, a deleted user) drops it at once.

Only the summary is kept, not each contact's interactions. Per process. `seconds` = 0: off.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from keepwarm.services.reconnect.engine import Suggestion

__all__ = ["QueueCache"]

STALE_FACTOR = 3.0
Build = Callable[[Session], list[Suggestion]]


@dataclass(frozen=True, slots=True)
class _Built:
    key: Hashable
    as_of: datetime
    made: float
    queue: list[Suggestion]


def _lean(s: Suggestion) -> Suggestion:
    # Who, the figures and the why-line; not the contact's every interaction.
    return replace(s, stats=replace(s.stats, history=replace(s.stats.history, points=())))


class QueueCache:
    """Built queues by user and view (see the module's docstring for what is safe)."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        seconds: float,
        *,
        max_entries: int = 256,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._factory = session_factory
        self._seconds = seconds
        self._max = max_entries
        self._monotonic = monotonic
        self._built: OrderedDict[tuple[int, bool], _Built] = OrderedDict()
        self._lock = threading.Lock()
        self._user_locks: dict[int, threading.Lock] = {}
        self._refreshing: set[tuple[int, bool]] = set()

    def _make(self, key: Hashable, as_of: datetime, session: Session, build: Build) -> _Built:
        made = self._monotonic()
        return _Built(key, as_of, made, [_lean(s) for s in build(session)])

    def _store(self, slot: tuple[int, bool], built: _Built) -> None:
        with self._lock:
            self._built[slot] = built
            self._built.move_to_end(slot)
            while len(self._built) > self._max:
                self._built.popitem(last=False)

    def _fits(self, built: _Built | None, key: Hashable, as_of: datetime, limit: float) -> bool:
        if built is None or built.key != key or built.as_of > as_of:
            return False
        age = self._monotonic() - built.made
        return age <= limit and (as_of - built.as_of).total_seconds() <= limit

    def _refresh(
        self, slot: tuple[int, bool], key: Hashable, as_of: datetime, build: Build
    ) -> None:
        try:
            with self._factory() as session:
                self._store(slot, self._make(key, as_of, session, build))
        finally:
            with self._lock:
                self._refreshing.discard(slot)

    def queue(
        self,
        session: Session,
        user_id: int,
        dormant: bool,
        key: Hashable,
        as_of: datetime,
        build: Build,
    ) -> list[Suggestion]:
        """The queue `build(session)` makes, or the one kept for `key` (see the module)."""
        if self._seconds <= 0:
            return build(session)
        slot = (user_id, dormant)
        with self._lock:
            built = self._built.get(slot)
            user_lock = self._user_locks.setdefault(user_id, threading.Lock())
        if self._fits(built, key, as_of, self._seconds):
            assert built is not None
            return built.queue
        if self._fits(built, key, as_of, self._seconds * STALE_FACTOR):
            assert built is not None
            with self._lock:
                start = slot not in self._refreshing
                self._refreshing.add(slot)
            if start:
                threading.Thread(
                    target=self._refresh, args=(slot, key, as_of, build), daemon=True
                ).start()
            return built.queue
        session.rollback()  # the request's connection goes back to the pool while it waits
        with user_lock:  # one request builds it; the others for this user wait and share it
            with self._lock:
                built = self._built.get(slot)
            if self._fits(built, key, as_of, self._seconds):
                assert built is not None
                return built.queue
            fresh = self._make(key, as_of, session, build)
            self._store(slot, fresh)
            return fresh.queue

    def forget(self, user_id: int) -> None:
        """Drop the user's queues (their data was deleted)."""
        with self._lock:
            for slot in [s for s in self._built if s[0] == user_id]:
                del self._built[slot]
