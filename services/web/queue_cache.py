"""Each user's reconnect queue, kept a short while by the web process.

The queue is read from the per-contact statistics the derivation worker keeps
(services/reconnect/store.py): about 0.1 s for 10,000 contacts, not the tens of seconds that
reading every interaction costs (bench/README.md, queue_speed.py). A web process that answers
many requests a second still does better to keep the built queue a little while than to read
and rank thousands of contacts for every page, so it keeps one per user and view, served only
while it cannot mislead:

- it is kept under a key naming everything it was built from besides the clock: the user's
  newest interaction id (a sync, an import, "talked elsewhere" all add one), newest answer id
  (answers are an append-only log), exclusions and rules; each request reads that key and a
  different key builds the queue afresh, so anything the user does, and any new mail, shows
  on the next request; requests for the same user wait for that one build instead of each
  making their own;
- it is never served for a moment before the one it was built for (no later data leaks into
  an `--as-of` view) nor more than `seconds` after it. What no key shows (a merge of two
  people, an account purged by another process, a snooze running out) shows that late at most.
  A request's moment is the `clock`'s when it is answered, if a clock is given: a request that
  waited while another built its queue for a moment during that wait is served that queue,
  instead of building again for its own earlier start (with a stopped clock, `--as-of`, the
  moments are all the same);
- a kept queue past `refresh_after` of its time is built again by the one request that finds
  it so first, while the user's other requests are still served the kept one (within its
  time): a busy user does not wait for the rebuild all at once;
- deleting data through the web app (a purged account, a deleted user) drops it at once.

Only the summary is kept, not each contact's interactions, and beside it the pages of it that
were asked for as the bytes sent (`page`): a page is a function of the queue alone, so it is
served exactly as long as its queue. Per process (`keepwarm serve --workers` runs one cache in
each). `seconds` = 0: off.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from keepwarm.services.reconnect.engine import Suggestion

__all__ = ["MAX_PAGE_BYTES", "QueueCache"]

Build = Callable[[Session], list[Suggestion]]
Render = Callable[[list[Suggestion]], bytes]
# Bytes of pages kept per built queue: cursors and limits come from the client, so what is kept
# is bounded, not the set of them. 2 MiB holds the first pages most requests ask for (a page
# of 50 is about 30 KB) and stays small beside the queue itself.
MAX_PAGE_BYTES = 2 << 20


@dataclass(frozen=True, slots=True)
class _Built:
    key: Hashable
    as_of: datetime
    made: float
    queue: list[Suggestion]
    pages: dict[Hashable, bytes] = field(default_factory=dict)
    page_bytes: list[int] = field(default_factory=lambda: [0])  # the pages' total, kept


class QueueCache:
    """Built queues by user and view (see the module's docstring for what is safe)."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        seconds: float,
        *,
        max_entries: int = 256,
        monotonic: Callable[[], float] = time.monotonic,
        clock: Callable[[], datetime] | None = None,
        refresh_after: float = 0.75,
    ) -> None:
        self._factory = session_factory
        self._seconds = seconds
        self._clock = clock
        self._refresh_after = refresh_after * seconds
        self._max = max_entries
        self._monotonic = monotonic
        self._built: OrderedDict[tuple[int, bool], _Built] = OrderedDict()
        self._lock = threading.Lock()
        self._user_locks: dict[int, threading.Lock] = {}

    def _fits(self, built: _Built | None, key: Hashable, as_of: datetime) -> bool:
        if built is None or built.key != key or built.as_of > as_of:
            return False
        age = self._monotonic() - built.made
        return age <= self._seconds and (as_of - built.as_of).total_seconds() <= self._seconds

    def _due_again(self, built: _Built) -> bool:
        """Past `refresh_after` of its time: one request builds it again (module docstring)."""
        return self._monotonic() - built.made > self._refresh_after

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
        return self._kept(session, user_id, dormant, key, as_of, build).queue

    def page(
        self,
        session: Session,
        user_id: int,
        dormant: bool,
        key: Hashable,
        as_of: datetime,
        build: Build,
        view: Hashable,
        render: Render,
    ) -> bytes:
        """`render(queue)` for the queue `queue()` serves, kept with that queue under `view`
        (what else `render` depends on: the cursor and the limit), so a page asked for again
        is not rendered again. What `render` raises is raised, and nothing is kept."""
        if self._seconds <= 0:
            return render(build(session))
        built = self._kept(session, user_id, dormant, key, as_of, build)
        body = built.pages.get(view)
        if body is None:
            body = render(built.queue)
            with self._lock:
                if built.page_bytes[0] + len(body) <= MAX_PAGE_BYTES:
                    built.pages[view] = body
                    built.page_bytes[0] += len(body)
        return body

    def kept_page(
        self, user_id: int, dormant: bool, key: Hashable, as_of: datetime, view: Hashable
    ) -> bytes | None:
        """The bytes `page` would return, when they are kept and need nothing built, rendered
        or waited for (None otherwise: ask `page`). Takes no session and waits on no user's
        build, so an event loop can serve it in place."""
        if self._seconds <= 0:
            return None
        with self._lock:
            built = self._built.get((user_id, dormant))
        if not self._fits(built, key, self._moment(as_of)):
            return None
        assert built is not None
        if self._due_again(built):
            return None  # `page` lets one request build it again
        with self._lock:
            return built.pages.get(view)

    def _kept(
        self,
        session: Session,
        user_id: int,
        dormant: bool,
        key: Hashable,
        as_of: datetime,
        build: Build,
    ) -> _Built:
        slot = (user_id, dormant)
        with self._lock:
            built = self._built.get(slot)
            user_lock = self._user_locks.setdefault(user_id, threading.Lock())
        if self._fits(built, key, self._moment(as_of)):
            assert built is not None
            if self._due_again(built) and user_lock.acquire(blocking=False):
                try:
                    with self._lock:
                        current = self._built.get(slot)
                    if current is built:  # not built again by another request meanwhile
                        session.rollback()
                        return self._build(slot, key, as_of, build, session)
                finally:
                    user_lock.release()
            return built
        session.rollback()  # the request's connection goes back to the pool while it waits
        with user_lock:  # one request builds it; the others for this user wait and share it
            with self._lock:
                built = self._built.get(slot)
            if self._fits(built, key, self._moment(as_of)):
                assert built is not None
                return built
            return self._build(slot, key, as_of, build, session)

    def _moment(self, as_of: datetime) -> datetime:
        return as_of if self._clock is None else max(as_of, self._clock())

    def _build(
        self, slot: tuple[int, bool], key: Hashable, as_of: datetime, build: Build, session: Session
    ) -> _Built:
        made = self._monotonic()
        fresh = _Built(key, as_of, made, build(session))
        with self._lock:
            self._built[slot] = fresh
            self._built.move_to_end(slot)
            while len(self._built) > self._max:
                self._built.popitem(last=False)
        return fresh

    def forget(self, user_id: int) -> None:
        """Drop the user's queues (their data was deleted)."""
        with self._lock:
            for slot in [s for s in self._built if s[0] == user_id]:
                del self._built[slot]
