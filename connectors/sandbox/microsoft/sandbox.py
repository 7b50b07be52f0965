"""`MicrosoftSandbox`: the identity platform + Graph v1.0 mail and calendar on loopback,
seeded from files."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from keepwarm.connectors.sandbox.faults import FaultControls
from keepwarm.connectors.sandbox.google.seed import (
    SeedMessage,
    default_window,
    read_seeds,
    sandbox_user,
)
from keepwarm.connectors.sandbox.google.wire import Request, Response
from keepwarm.connectors.sandbox.lifecycle import LoopbackSandbox
from keepwarm.connectors.sandbox.microsoft.app import SandboxApp, State
from keepwarm.connectors.sandbox.microsoft.events import Calendar
from keepwarm.connectors.sandbox.microsoft.faults import Fault, FaultKind
from keepwarm.connectors.sandbox.microsoft.folders import Folder
from keepwarm.connectors.sandbox.microsoft.grants import Grants
from keepwarm.connectors.sandbox.microsoft.identity import Directory
from keepwarm.connectors.sandbox.microsoft.mailbox import Mailbox
from keepwarm.connectors.sandbox.microsoft.throttle import Limits, Throttle
from keepwarm.connectors.types import Unreadable

__all__ = ["MicrosoftSandbox"]


class MicrosoftSandbox(LoopbackSandbox, FaultControls[Fault]):
    """A local, wire-faithful stand-in for the Microsoft identity platform and Graph v1.0.

    msal and httpx talk to it with only their endpoints changed (see the package docstring).
    `seeds` are mailboxes and calendars in any format `keepwarm import` reads; the user is
    `user_email` or the dominant sender of the seeds' sent mail. `clock` (monotonic seconds)
    drives Outlook's 10-minute request window and token expiry, so tests can move time by hand.

    Raises SourceMissing/UnknownFormat for a bad seed path and ValueError when no user can be
    inferred.
    """

    def __init__(
        self,
        seeds: Sequence[Path],
        *,
        user_email: str | None = None,
        port: int = 0,
        limits: Limits | None = None,
        clock: Callable[[], float] = time.monotonic,
        access_token_lifetime: float = 3600.0,
        calendar_window: tuple[datetime, datetime] | None = None,
        extra_redirect_prefixes: Sequence[str] = (),
    ) -> None:
        self._window = calendar_window or default_window(datetime.now(UTC))
        seed = read_seeds(seeds, window=self._window)
        self.user_email = sandbox_user(seed, user_email)
        self.unreadable: list[Unreadable] = list(seed.unreadable)
        directory = Directory(self.user_email, _owner_name(seed.messages, self.user_email))
        self._state = State(
            directory=directory,
            mailbox=Mailbox(self.user_email, now=lambda: datetime.now(UTC)),
            calendar=Calendar(self.user_email, now=lambda: datetime.now(UTC)),
            grants=Grants(self.user_email, clock=clock, access_lifetime=access_token_lifetime),
            throttle=Throttle(limits or Limits(), clock),
            extra_redirects=tuple(extra_redirect_prefixes),
        )
        self._state.mailbox.add(seed.messages, live=False)
        self._state.calendar.add(seed.events)
        super().__init__(port)
        FaultControls.__init__(self, self._state, Fault, FaultKind)
        self._app = SandboxApp(self._state, self, sleep=self._stopping.wait)

    def _handler(self) -> Callable[[Request], Response]:
        return self._app.handle

    @property
    def graph_url(self) -> str:
        """Graph's base, `http://127.0.0.1:PORT/v1.0`."""
        return self.url + "/v1.0"

    def authority(self, tenant: str = "common") -> str:
        """The authority msal is given: `https://127.0.0.1:PORT/<tenant>` (msal wants https;
        its requests reach the sandbox over http through a loopback transport)."""
        return self.url.replace("http://", "https://", 1) + "/" + tenant

    @property
    def tenant_id(self) -> str:
        """The directory's tenant id."""
        return self._state.directory.tenant_id

    # -- live changes ------------------------------------------------------------------------

    def add_messages(self, paths: Sequence[Path], folder: str | None = None) -> list[str]:
        """Deliver the mail in `paths` now, each in its seed folder or in `folder` (a
        well-known name, id, or "/"-separated path). Returns the new message ids."""
        seed = read_seeds(paths, window=self._window)
        with self._state.lock:
            self.unreadable.extend(seed.unreadable)
            target = self._folder(folder) if folder is not None else None
            return self._state.mailbox.add(seed.messages, live=True, folder=target)

    def add_events(self, paths: Sequence[Path]) -> list[str]:
        """Add or update the events in `paths`. Returns the event ids added or changed."""
        seed = read_seeds(paths, window=self._window)
        with self._state.lock:
            self.unreadable.extend(seed.unreadable)
            return self._state.calendar.add(seed.events)

    def seed(self, paths: Sequence[Path], folder: str | None = None) -> dict[str, object]:
        """Add mail and events from `paths` at once (the admin endpoint's action)."""
        seed = read_seeds(paths, window=self._window)
        with self._state.lock:
            self.unreadable.extend(seed.unreadable)
            target = self._folder(folder) if folder is not None else None
            messages = self._state.mailbox.add(seed.messages, live=True, folder=target)
            events = self._state.calendar.add(seed.events)
            return {"messages": messages, "events": events, "unreadable": len(seed.unreadable)}

    def move_message(self, message_id: str, folder: str) -> str:
        """Move a message to `folder`; returns its new id. Raises KeyError for an unknown id."""
        with self._state.lock:
            return self._state.mailbox.move(message_id, self._folder(folder))

    def delete_message(self, message_id: str) -> None:
        """Delete a message for good. Raises KeyError for an unknown id."""
        with self._state.lock:
            self._state.mailbox.delete(message_id)

    def mark_read(self, message_id: str) -> None:
        """Mark a message read (an update the next delta round reports)."""
        with self._state.lock:
            self._state.mailbox.mark_read(message_id)

    def cancel_event(self, event_id: str) -> None:
        """Cancel a meeting or one occurrence (it stays, `isCancelled`). Raises KeyError."""
        with self._state.lock:
            self._state.calendar.cancel(event_id)

    def delete_event(self, event_id: str) -> None:
        """Delete a meeting or occurrence from the calendar. Raises KeyError."""
        with self._state.lock:
            self._state.calendar.delete(event_id)

    def move_event(self, event_id: str, new_start: datetime) -> None:
        """Reschedule an occurrence to `new_start` (aware), keeping its length. Raises
        KeyError for an unknown id, ValueError for a naive datetime."""
        with self._state.lock:
            self._state.calendar.move(event_id, new_start)

    # -- faults ------------------------------------------------------------------------------

    def apply_fault(self, fault: Fault) -> None:
        """Queue a request fault, or act on a state fault at once. Raises ValueError for bad
        values, KeyError for an unknown folder."""
        with self._state.lock:
            if fault.kind is FaultKind.INVALID_GRANT:
                self._state.grants.kill(fault.aadsts)
            elif fault.kind is FaultKind.RESTORE_CONSENT:
                self._state.grants.restore()
            elif fault.kind is FaultKind.EXPIRE_DELTA_TOKENS:
                if fault.folder is None or fault.folder == "calendar":
                    self._state.calendar.expire()
                if fault.folder is None:
                    self._state.mailbox.expire()
                elif fault.folder != "calendar":
                    self._state.mailbox.expire(self._folder(fault.folder))
            else:
                self._state.faults.add(fault)

    def fail_with_429(
        self, count: int = 1, *, retry_after: float = 1.0, path_prefix: str | None = None
    ) -> None:
        """The next `count` matching requests get 429 with `Retry-After: retry_after`."""
        self.apply_fault(Fault(FaultKind.RATE_LIMIT, count, path_prefix, retry_after=retry_after))

    def invalid_grant(self, aadsts: int = 65001) -> None:
        """Every grant dies: refreshes get `invalid_grant` AADSTS`aadsts` (65001 consent
        revoked, which also refuses new consent until `restore_consent`; 50173 password
        reset; 700082 inactivity), and Graph refuses their access tokens."""
        self.apply_fault(Fault(FaultKind.INVALID_GRANT, aadsts=aadsts))

    def restore_consent(self) -> None:
        """The user is willing to consent again (old grants stay dead)."""
        self.apply_fault(Fault(FaultKind.RESTORE_CONSENT))

    def expire_delta_tokens(self, folder: str | None = None) -> None:
        """Delta and skip tokens of `folder` ("calendar" for the calendar view; None for all)
        get 410 SyncStateNotFound from now on."""
        self.apply_fault(Fault(FaultKind.EXPIRE_DELTA_TOKENS, folder=folder))

    # -- observation -------------------------------------------------------------------------

    def requests(self) -> list[str]:
        """ "METHOD /path?query" of every request so far (the last 10,000; admin excluded)."""
        with self._state.lock:
            return list(self._app.seen)

    def served(self) -> dict[str, int]:
        """Graph requests answered (admitted under the limits), per operation."""
        return dict(self._state.throttle.served)

    def refused(self) -> dict[str, int]:
        """Requests refused with 429 by the limits: "concurrency" and "rate"."""
        return dict(self._state.throttle.refused)

    def window_used(self, client_id: str) -> int:
        """Requests of `client_id` counted in the mailbox's current 10-minute window."""
        return self._state.throttle.used((client_id, self.user_email))

    def served_twice(self) -> int:
        """Messages served in delta pages more than once (each extra time counted): what a
        client fetched again after losing an answer, or reading a folder from the start."""
        with self._state.lock:
            return sum(n - 1 for n in self._state.mailbox.delivered.values() if n > 1)

    @property
    def peak_in_flight(self) -> int:
        """The most requests one app had running at once against the mailbox."""
        return self._state.throttle.peak_in_flight

    @property
    def selected_fields(self) -> set[str]:
        """Every property ever named in a `$select`."""
        with self._state.lock:
            return set(self._state.selected)

    @property
    def clients(self) -> dict[str, str | None]:
        """OAuth client ids seen at the token endpoint, with the secret each used."""
        with self._state.lock:
            return dict(self._state.grants.clients)

    @property
    def internal_errors(self) -> list[str]:
        """Tracebacks of sandbox bugs answered with 500; a test should find none."""
        return list(self._app.internal_errors)

    def folder_id(self, name: str) -> str:
        """The id of a folder by well-known name, id or "/"-separated display path."""
        with self._state.lock:
            return self._folder(name).id

    def message_ids(self, folder: str) -> list[str]:
        """The ids of the messages in `folder`, in the order they were filed."""
        with self._state.lock:
            items = self._state.mailbox.items(self._folder(folder))
            return [item.id for item in sorted(items, key=lambda item: item.order)]

    def event_ids(self) -> list[str]:
        """The ids of the calendar's occurrences, by start."""
        with self._state.lock:
            return [item.id for item in self._state.calendar.all()]

    def folder_counts(self) -> dict[str, int]:
        """Messages per folder, by display path ("Inbox/projects"), folders with mail only."""
        with self._state.lock:
            mailbox = self._state.mailbox
            counts: dict[str, int] = {}
            for folder in mailbox.folders.values():
                count = mailbox.count(folder)
                if count:
                    counts[self._path(folder)] = count
            return counts

    def stats(self) -> dict[str, object]:
        """What `GET /_sandbox/stats` shows."""
        with self._state.lock:
            messages, _ = self._state.mailbox.totals()
            return {
                "user": self.user_email,
                "tenant": self.tenant_id,
                "served": self.served(),
                "refused": self.refused(),
                "peak_in_flight": self.peak_in_flight,
                "messages": messages,
                "folders": self.folder_counts(),
                "events": len(self._state.calendar.all()),
                "clients": sorted(self._state.grants.clients),
            }

    def _folder(self, ref: str) -> Folder:
        mailbox = self._state.mailbox
        found = mailbox.resolve(ref)
        if found is not None:
            return found
        for folder in mailbox.folders.values():
            if self._path(folder).lower() == ref.strip("/").lower():
                return folder
        raise KeyError(f"no folder {ref!r}")

    def _path(self, folder: Folder) -> str:
        mailbox = self._state.mailbox
        names: list[str] = []
        while folder.well_known != "msgfolderroot" and folder.parent_id:
            names.append(folder.display_name)
            folder = mailbox.folders[folder.parent_id]
        return "/".join(reversed(names))


def _owner_name(messages: Sequence[SeedMessage], owner: str) -> str | None:
    """The owner's display name: the one their own From lines carry most."""
    names = Counter(
        m.record.sender.name
        for m in messages
        if m.record.sender is not None and m.record.sender.email == owner and m.record.sender.name
    )
    return names.most_common(1)[0][0] if names else None
