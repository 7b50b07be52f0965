"""Outlook's service limits per app and mailbox: 10,000 requests in any 10 minutes and 4
requests at a time (learn.microsoft.com/graph/throttling-limits, "Outlook service limits").

A request over either limit is refused with 429: `MailboxConcurrency` for the fifth request at
once, the generic throttling body for the rate, with `Retry-After` in seconds (fractional, as
Graph sometimes sends them). Throttled requests still count against the rate, as Graph
documents, so a client that ignores `Retry-After` stays throttled; one that waits it out gets
through. `$batch` inner requests count one by one; the outer request does not.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from keepwarm.connectors.sandbox.microsoft.errors import throttled

__all__ = ["Limits", "Throttle"]

Key = tuple[str, str]  # (client id, mailbox)


@dataclass(frozen=True, slots=True)
class Limits:
    """The limits enforced: `requests` per `window` seconds, `concurrent` at once."""

    requests: int = 10_000
    window: float = 600.0
    concurrent: int = 4


@dataclass
class _Mailbox:
    times: deque[float] = field(default_factory=deque)
    in_flight: int = 0


class Throttle:
    """Counts requests per (app, mailbox); thread-safe (requests run on server threads)."""

    def __init__(self, limits: Limits, clock: Callable[[], float]) -> None:
        self.limits = limits
        self._clock = clock
        self._lock = threading.Lock()
        self._boxes: dict[Key, _Mailbox] = {}
        self.served: Counter[str] = Counter()  # operation -> requests answered
        self.refused: Counter[str] = Counter()  # "concurrency" | "rate" -> 429s
        self.peak_in_flight = 0

    @contextmanager
    def admit(self, key: Key, operation: str) -> Iterator[None]:
        """Hold a place for one request while it runs.

        Raises GraphError 429 when the mailbox has `concurrent` requests running already, or
        its window is full (the refused request is counted in the window all the same).
        """
        with self._lock:
            box = self._boxes.setdefault(key, _Mailbox())
            now = self._clock()
            self._expire(box, now)
            if box.in_flight >= self.limits.concurrent:
                box.times.append(now)
                self.refused["concurrency"] += 1
                raise throttled(1.0, concurrency=True)
            box.times.append(now)
            if len(box.times) > self.limits.requests:
                self.refused["rate"] += 1
                # A retry fits once the window, this refusal included, has lost one request
                # more than its excess: until the (excess + 1)th oldest leaves it.
                excess = len(box.times) - self.limits.requests
                leaves = box.times[excess] + self.limits.window
                raise throttled(max(leaves - now, 0.001), concurrency=False)
            box.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, box.in_flight)
            self.served[operation] += 1
        try:
            yield
        finally:
            with self._lock:
                box.in_flight -= 1

    def used(self, key: Key) -> int:
        """Requests counted in the mailbox's current window."""
        with self._lock:
            box = self._boxes.get(key)
            if box is None:
                return 0
            self._expire(box, self._clock())
            return len(box.times)

    def _expire(self, box: _Mailbox, now: float) -> None:
        while box.times and box.times[0] <= now - self.limits.window:
            box.times.popleft()
