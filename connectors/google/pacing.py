"""Pacing calls so a provider's moving window of quota is never overdrawn.

Gmail charges a call's units at the moment it serves it, somewhere between the moment we send
the call and the moment its answer is back (a batch's inner calls each at its own moment in
between). A limiter that counts units when they are sent drifts from that: a batch Gmail
served late is still in Gmail's window when ours has already let it go, the next batch lands
on top of it, and Gmail refuses the overlap with 429 and a wait of at least a second.

`ServedWindow` counts a call from when it is sent until a full window after its answer came
back, the latest moment Gmail can have charged it. Calls are sent only when they fit beside
everything Gmail may still hold, so Gmail's own window never exceeds the limit, whatever the
latency. The price is the latency itself: a window of 1 s paced this way runs at
limit / (1 s + latency), which is why GmailReader keeps its batches small.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["ServedWindow"]


class ServedWindow:
    """A moving window of `limit` units per `seconds`, counted on each call's completion.

    For one caller at a time (one GmailReader, one sync): a call waits for room only before it
    is sent, and nothing else is in flight then. `clock` and `sleep` are injectable so tests
    can drive time by hand.
    """

    def __init__(
        self,
        limit: int,
        *,
        seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if limit <= 0 or seconds <= 0:
            raise ValueError("limit and seconds must be positive")
        self.limit, self.seconds = limit, seconds
        self._clock, self._sleep = clock, sleep
        self._done: deque[tuple[float, int]] = deque()  # (answered at, units), oldest first
        self._held = 0  # the sum of the units in _done

    @contextmanager
    def calling(self, units: int) -> Iterator[None]:
        """Wait until `units` fit in the window, run the block (the call), then count the
        units as charged at the moment the block ended, even when it raised (the provider may
        have served the call before the failure reached us).

        Raises ValueError when `units` alone exceed the limit.
        """
        if units > self.limit:
            raise ValueError(f"{units} units in one call exceed the limit of {self.limit}")
        while (wait := self._wait_for(units)) > 0:
            self._sleep(wait)
        try:
            yield
        finally:
            self._done.append((self._clock(), units))
            self._held += units

    def held(self) -> int:
        """Units the provider may still count in its window right now."""
        self._expire(self._clock())
        return self._held

    def _expire(self, now: float) -> None:
        while self._done and self._done[0][0] <= now - self.seconds:
            self._held -= self._done.popleft()[1]

    def _wait_for(self, units: int) -> float:
        """Seconds until `units` fit; 0 when they fit now."""
        now = self._clock()
        self._expire(now)
        excess = self._held + units - self.limit
        if excess <= 0:
            return 0.0
        for answered, held in self._done:  # oldest first: until enough of them leave
            excess -= held
            if excess <= 0:
                # Leaving is `<=`, so the entry is gone exactly one window after its answer.
                return max(answered + self.seconds - now, 1e-6)
        raise AssertionError("unreachable: units <= limit, so emptying the window makes room")
