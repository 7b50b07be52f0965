"""Fixtures of the connector tests: the data slices, and Google sandboxes on a hand-moved
clock (for the sandbox's own tests and the Google connector's)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from keepwarm.connectors.sandbox.google import GoogleSandbox
from tests.support.google import ManualClock

DATA = Path(__file__).resolve().parents[1] / "data"
_DEFAULT_SEEDS = [
    DATA / "enron" / "delainey-d",
    DATA / "takeout" / "All mail Including Spam and Trash.mbox",
    DATA / "ics" / "icaljs" / "recur_instances.ics",
]

# The window the sandbox expands recurring events over: fixed, so an unbounded series gives the
# same instances on any day the suite runs (the sandbox's default follows the wall clock).
CALENDAR_WINDOW = (
    datetime(2026, 11, 30, tzinfo=UTC) - timedelta(days=365 * 30),
    datetime(2026, 11, 30, tzinfo=UTC) + timedelta(days=365),
)


@pytest.fixture
def data() -> Path:
    """The folder of small real data slices (tests/data, described in its README)."""
    return DATA


@pytest.fixture(autouse=True)
def _oauthlib_over_http(monkeypatch: pytest.MonkeyPatch) -> None:
    # oauthlib refuses http:// endpoints unless told this is a test; the sandbox is plain http.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    monkeypatch.delenv("OAUTHLIB_RELAX_TOKEN_SCOPE", raising=False)


@pytest.fixture
def clock() -> ManualClock:
    """A monotonic clock that moves only when the test says so."""
    return ManualClock()


@pytest.fixture
def make_sandbox(clock: ManualClock) -> Iterator[Callable[..., GoogleSandbox]]:
    """Start sandboxes (default seeds: the Enron slice, the Takeout mbox, a recurring .ics)
    on the manual clock; each is stopped and checked for internal errors afterwards. The
    clock stands still, so quota is unlimited unless a test sets it."""
    started: list[GoogleSandbox] = []

    def make(*seeds: Path, **options: Any) -> GoogleSandbox:
        options.setdefault("clock", clock)
        options.setdefault("calendar_window", CALENDAR_WINDOW)
        options.setdefault("quota_units_per_second", 10**9)
        options.setdefault("calendar_requests_per_second", 10**9)
        sandbox = GoogleSandbox(list(seeds) or _DEFAULT_SEEDS, **options).start()
        started.append(sandbox)
        return sandbox

    yield make
    for sandbox in started:
        sandbox.stop()
    for sandbox in started:
        assert sandbox.internal_errors == [], sandbox.internal_errors[0]
