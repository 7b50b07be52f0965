"""Each user's per-contact statistics, kept a short while by the web process.

The queue is cheap to rank and expensive to feed: every interaction of the user is read and
summarised per contact (about 3 s for 500,000 interactions). Only that summary is kept, and
only what cannot go wrong is served from it:

- a ranking made from a summary is kept with it, keyed by everything else it reads (the
  user's newest answer, their exclusions, their rules): any answer or settings change makes a
  new one at once; otherwise one serves for `seconds`, as the summary does;
- a summary carries the user's newest interaction id when it was made (one index probe per
  request checks it): new interactions (a sync, an import, "talked elsewhere") make the next
  request build a new one; requests for the same user wait for that one build, not each their
  own;
- a summary is never used for a moment before the one it was made for (no later data leaks
  into an `--as-of` view); past `seconds` it is still served, for at most three times as long,
  while one background thread makes the next (what no new id shows: a merge of two people, an
  account purged by another process, changes that late at most);
- deleting data through the web app (a purged account, a deleted user) drops it at once.

Per process: several server processes each keep their own. `seconds` = 0 turns it off.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from keepwarm.services.models import Interaction
from keepwarm.services.reconnect import ContactStats, compute_stats, load_histories

__all__ = ["StatsCache"]

T = TypeVar("T")

STALE_FACTOR = 3.0


@dataclass(frozen=True, slots=True)
class _Entry:
    as_of: datetime
    made: float
    newest: int | None  # the user's newest interaction id when it was made
    stats: list[ContactStats]
    # Rankings made from these statistics, by what else they depend on (the user's answers,
    # exclusions and rules): (as of, made, ranking).
    ranked: dict[Hashable, tuple[datetime, float, list[Any]]] = field(default_factory=dict)


def _lean(stats: ContactStats) -> ContactStats:
    # The summary keeps who the contact is, not their every interaction.
    return replace(stats, history=replace(stats.history, points=()))


class StatsCache:
    """Per-contact statistics by user (see the module's docstring for what is safe)."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        seconds: float,
        *,
        max_users: int = 256,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._factory = session_factory
        self._seconds = seconds
        self._max_users = max_users
        self._monotonic = monotonic
        self._entries: OrderedDict[int, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._user_locks: dict[int, threading.Lock] = {}
        self._refreshing: set[int] = set()

    @staticmethod
    def _newest(session: Session, user_id: int) -> int | None:
        return session.scalar(
            select(func.max(Interaction.id)).where(Interaction.user_id == user_id)
        )

    def _compute(self, user_id: int, as_of: datetime, session: Session | None = None) -> _Entry:
        made = self._monotonic()
        if session is None:
            with self._factory() as own:
                return self._compute(user_id, as_of, own)
        newest = self._newest(session, user_id)
        stats = [_lean(compute_stats(h)) for h in load_histories(session, user_id, as_of)]
        return _Entry(as_of, made, newest, stats)

    def _usable(self, entry: _Entry | None, as_of: datetime, age_limit: float) -> bool:
        if entry is None or entry.as_of > as_of:
            return False
        age = self._monotonic() - entry.made
        return age <= age_limit and (as_of - entry.as_of).total_seconds() <= age_limit

    def _store(self, user_id: int, entry: _Entry) -> None:
        with self._lock:
            self._entries[user_id] = entry
            self._entries.move_to_end(user_id)
            while len(self._entries) > self._max_users:
                self._entries.popitem(last=False)

    def _refresh(self, user_id: int, as_of: datetime) -> None:
        try:
            self._store(user_id, self._compute(user_id, as_of))
        finally:
            with self._lock:
                self._refreshing.discard(user_id)

    def stats(self, session: Session, user_id: int, as_of: datetime) -> list[ContactStats]:
        """The user's per-contact statistics as of `as_of` (or of a moment shortly before).

        `session` is the request's own, for the one probe; a summary is built in a session of
        its own, so a request waiting for another's build holds no connection of its own but
        that one.
        """
        return self._entry(session, user_id, as_of).stats

    def ranked(
        self,
        session: Session,
        user_id: int,
        as_of: datetime,
        key: Hashable,
        rank: Callable[[list[ContactStats]], list[T]],
    ) -> list[T]:
        """`rank(stats)`, kept with the statistics it was made from for the same `key` (which
        must name everything else the ranking reads: the user's answers, exclusions, rules)."""
        entry = self._entry(session, user_id, as_of)
        made = entry.ranked.get(key)
        if made is not None and made[0] <= as_of:
            age = self._monotonic() - made[1]
            if age <= self._seconds and (as_of - made[0]).total_seconds() <= self._seconds:
                return list(made[2])
        result = rank(entry.stats)
        if self._seconds > 0:
            entry.ranked[key] = (as_of, self._monotonic(), result)
        return list(result)

    def _entry(self, session: Session, user_id: int, as_of: datetime) -> _Entry:
        if self._seconds <= 0:  # no cache: the request's own session, one connection
            return self._compute(user_id, as_of, session)
        newest = self._newest(session, user_id)
        session.rollback()  # the probe's connection goes back to the pool while this waits
        with self._lock:
            entry = self._entries.get(user_id)
            user_lock = self._user_locks.setdefault(user_id, threading.Lock())
        if entry is not None and entry.newest == newest:
            if self._usable(entry, as_of, self._seconds):
                return entry
            if self._usable(entry, as_of, self._seconds * STALE_FACTOR):
                with self._lock:
                    start = user_id not in self._refreshing
                    self._refreshing.add(user_id)
                if start:
                    threading.Thread(
                        target=self._refresh, args=(user_id, as_of), daemon=True
                    ).start()
                return entry
        with user_lock:  # one request builds it; the others for this user wait and share it
            with self._lock:
                entry = self._entries.get(user_id)
            if (
                entry is not None
                and entry.newest == newest
                and self._usable(entry, as_of, self._seconds)
            ):
                return entry
            built = self._compute(user_id, as_of)
            self._store(user_id, built)
            return built

    def forget(self, user_id: int) -> None:
        """Drop the user's summary (their data was deleted)."""
        with self._lock:
            self._entries.pop(user_id, None)
