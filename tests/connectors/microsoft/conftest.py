"""Fixtures of the Microsoft tests: sandboxes on a hand-moved clock, checked for internal errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from keepwarm.connectors.sandbox.microsoft import Limits, MicrosoftSandbox
from tests.support.google import ManualClock
from tests.support.microsoft import CALENDAR_WINDOW, MICROSOFT_SEEDS

UNLIMITED = Limits(requests=10**9, window=600.0, concurrent=10**6)


@pytest.fixture
def ms_clock() -> ManualClock:
    """A monotonic clock that moves only when the test says so."""
    return ManualClock()


@pytest.fixture
def make_ms(ms_clock: ManualClock) -> Iterator[Callable[..., MicrosoftSandbox]]:
    """Start Microsoft sandboxes (default seeds: the Enron slice and two calendars) on the
    manual clock, without Outlook's limits unless a test passes `limits`; each is stopped and
    checked for internal errors afterwards."""
    started: list[MicrosoftSandbox] = []

    def make(*seeds: Path, **options: Any) -> MicrosoftSandbox:
        options.setdefault("clock", ms_clock)
        options.setdefault("calendar_window", CALENDAR_WINDOW)
        options.setdefault("limits", UNLIMITED)
        sandbox = MicrosoftSandbox(list(seeds or MICROSOFT_SEEDS), **options).start()
        started.append(sandbox)
        return sandbox

    yield make
    for sandbox in started:
        sandbox.stop()
    for sandbox in started:
        assert sandbox.internal_errors == [], sandbox.internal_errors[0]


@pytest.fixture
def ms(make_ms: Callable[..., MicrosoftSandbox]) -> MicrosoftSandbox:
    """A running sandbox on the default seeds."""
    return make_ms()
