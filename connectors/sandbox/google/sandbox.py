"""`GoogleSandbox`: Google OAuth + Gmail v1 + Calendar v3 on loopback, seeded from files."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from keepwarm.connectors.sandbox.faults import FaultControls
from keepwarm.connectors.sandbox.google.app import SandboxApp, State
from keepwarm.connectors.sandbox.google.events import EventStore
from keepwarm.connectors.sandbox.google.faults import Fault, FaultKind
from keepwarm.connectors.sandbox.google.grants import Grants
from keepwarm.connectors.sandbox.google.mailbox import Mailbox
from keepwarm.connectors.sandbox.google.quota import QuotaMeter
from keepwarm.connectors.sandbox.google.seed import default_window, read_seeds, sandbox_user
from keepwarm.connectors.sandbox.google.wire import Request, Response
from keepwarm.connectors.sandbox.lifecycle import LoopbackSandbox
from keepwarm.connectors.types import Unreadable

__all__ = ["GoogleSandbox"]


class GoogleSandbox(LoopbackSandbox, FaultControls[Fault]):
    """A local, wire-faithful stand-in for Google's OAuth, Gmail v1 and Calendar v3 APIs.

    The real client libraries talk to it with only their endpoints changed (see the package
    docstring). `seeds` are mailboxes and calendars in any format `keepwarm import` reads; the
    user is `user_email` or the dominant sender of the seeds' sent mail. `clock` (monotonic
    seconds) drives quota windows and token expiry, so tests can move time by hand.

    Raises SourceMissing/UnknownFormat for a bad seed path and ValueError when no user can be
    inferred.
    """

    def __init__(
        self,
        seeds: Sequence[Path],
        *,
        user_email: str | None = None,
        port: int = 0,
        quota_units_per_second: int = 250,
        clock: Callable[[], float] = time.monotonic,
        calendar_requests_per_second: int = 10,
        access_token_lifetime: float = 3600.0,
        calendar_window: tuple[datetime, datetime] | None = None,
        extra_redirect_prefixes: Sequence[str] = (),
    ) -> None:
        self._window = calendar_window or default_window(datetime.now(UTC))
        seed = read_seeds(seeds, window=self._window)
        self.user_email = sandbox_user(seed, user_email)
        self.unreadable: list[Unreadable] = list(seed.unreadable)
        self._state = State(
            mailbox=Mailbox(self.user_email, now_ms=lambda: int(time.time() * 1000)),
            events=EventStore(self.user_email, now=lambda: datetime.now(UTC)),
            grants=Grants(self.user_email, clock=clock, access_lifetime=access_token_lifetime),
            quota=QuotaMeter(
                gmail_units_per_second=quota_units_per_second,
                calendar_requests_per_second=calendar_requests_per_second,
                clock=clock,
            ),
            extra_redirects=tuple(extra_redirect_prefixes),
        )
        self._state.mailbox.add(seed.messages, live=False)
        self._state.events.add(seed.events)
        super().__init__(port)
        FaultControls.__init__(self, self._state, Fault, FaultKind)
        self._app = SandboxApp(self._state, self, sleep=self._stopping.wait)

    def _handler(self) -> Callable[[Request], Response]:
        return self._app.handle

    # -- live changes ------------------------------------------------------------------------

    def add_messages(self, paths: Sequence[Path]) -> list[str]:
        """Deliver the mail in `paths` now: new historyIds and `messagesAdded` records (or
        `labelsAdded` for a copy of a held message). Returns the Gmail ids added or changed."""
        seed = read_seeds(paths, window=self._window)
        with self._state.lock:
            self.unreadable.extend(seed.unreadable)
            return self._state.mailbox.add(seed.messages, live=True)

    def add_events(self, paths: Sequence[Path]) -> list[str]:
        """Add or update the events in `paths`, visible to the next incremental sync. Returns
        the event ids added or changed."""
        seed = read_seeds(paths, window=self._window)
        with self._state.lock:
            self.unreadable.extend(seed.unreadable)
            return self._state.events.add(seed.events)

    def seed(self, paths: Sequence[Path]) -> dict[str, object]:
        """Add mail and events from `paths` at once (the admin endpoint's action)."""
        seed = read_seeds(paths, window=self._window)
        with self._state.lock:
            self.unreadable.extend(seed.unreadable)
            messages = self._state.mailbox.add(seed.messages, live=True)
            events = self._state.events.add(seed.events)
            return {
                "messages": messages,
                "events": events,
                "unreadable": len(seed.unreadable),
                "historyId": str(self._state.mailbox.history_id),
            }

    def cancel_event(self, event_id: str) -> None:
        """Cancel an event or one instance of a series. Raises KeyError for an unknown id."""
        with self._state.lock:
            self._state.events.cancel(event_id)

    def move_event(self, event_id: str, new_start: datetime) -> None:
        """Reschedule an event or instance to `new_start` (aware), keeping its length.
        Raises KeyError for an unknown id, ValueError for a naive datetime."""
        with self._state.lock:
            self._state.events.move(event_id, new_start)

    # -- faults ------------------------------------------------------------------------------

    def apply_fault(self, fault: Fault) -> None:
        """Queue a request fault, or act on a state fault at once. Raises ValueError for bad
        values."""
        with self._state.lock:
            if fault.kind is FaultKind.REVOKE_GRANT:
                self._state.grants.revoke_user()
            elif fault.kind is FaultKind.RESTORE_GRANT:
                self._state.grants.restore_user()
            elif fault.kind is FaultKind.EXPIRE_HISTORY:
                self._state.mailbox.expire_history()
            elif fault.kind is FaultKind.EXPIRE_SYNC_TOKENS:
                self._state.events.expire_tokens()
            else:
                self._state.faults.add(fault)

    def fail_with_429(
        self, count: int = 1, *, retry_after: int = 1, path_prefix: str | None = None
    ) -> None:
        """The next `count` matching requests get 429 with `Retry-After: retry_after`."""
        self.apply_fault(Fault(FaultKind.RATE_LIMIT, count, path_prefix, retry_after=retry_after))

    def revoke_grant(self) -> None:
        """The user removes the app's access: all tokens die, new consent is refused."""
        self.apply_fault(Fault(FaultKind.REVOKE_GRANT))

    def restore_grant(self) -> None:
        """The user reconnects: a new authorization works again (old tokens stay dead)."""
        self.apply_fault(Fault(FaultKind.RESTORE_GRANT))

    def expire_history(self) -> None:
        """Every historyId issued so far gives 404 from history.list."""
        self.apply_fault(Fault(FaultKind.EXPIRE_HISTORY))

    def expire_sync_tokens(self) -> None:
        """Every Calendar syncToken issued so far gives 410."""
        self.apply_fault(Fault(FaultKind.EXPIRE_SYNC_TOKENS))

    # -- observation -------------------------------------------------------------------------

    def units_spent(self, user: str | None = None) -> int:
        """Gmail quota units charged to `user` (default: the sandbox's user)."""
        with self._state.lock:
            return self._state.quota.units_spent(user or self.user_email)

    def call_counts(self, user: str | None = None) -> dict[str, int]:
        """Served API calls per discovery method id (batch inner calls included)."""
        with self._state.lock:
            return self._state.quota.call_counts(user or self.user_email)

    def refused_counts(self, user: str | None = None) -> dict[str, int]:
        """Calls refused with 429 for lack of quota, per method id."""
        with self._state.lock:
            return self._state.quota.refused_counts(user or self.user_email)

    def requests(self) -> list[str]:
        """ "METHOD /path" of every outer HTTP request so far (the last 10,000)."""
        with self._state.lock:
            return list(self._app.seen)

    @property
    def clients(self) -> dict[str, str]:
        """OAuth client ids seen at the token endpoint, with the secret each used."""
        with self._state.lock:
            return dict(self._state.grants.clients)

    @property
    def internal_errors(self) -> list[str]:
        """Tracebacks of sandbox bugs answered with 500; a test should find none."""
        return list(self._app.internal_errors)

    def thread_sizes(self) -> list[int]:
        """The number of messages in each thread (what threads.get can save: a thread of n
        costs 10 units instead of 5n)."""
        with self._state.lock:
            return self._state.mailbox.thread_sizes()

    @property
    def history_id(self) -> int:
        """The mailbox's current historyId."""
        with self._state.lock:
            return self._state.mailbox.history_id

    def stats(self) -> dict[str, object]:
        """What `GET /_sandbox/stats` shows."""
        with self._state.lock:
            messages, threads = self._state.mailbox.totals()
            return {
                "user": self.user_email,
                "units_spent": self.units_spent(),
                "calls": self.call_counts(),
                "refused": self.refused_counts(),
                "historyId": str(self._state.mailbox.history_id),
                "messages": messages,
                "threads": threads,
                "events": len(self._state.events.all()),
                "clients": sorted(self._state.grants.clients),
            }
