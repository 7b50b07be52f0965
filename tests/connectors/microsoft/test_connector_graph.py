"""GraphClient against the sandbox: Retry-After waited out (fractions included) without a
retry spent, long waits handed up as RateLimited, one token refresh on 401, every failure
classified once, the concurrency slot and the request budget taken for every request."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from keepwarm.connectors.errors import (
    AuthExpired,
    PermanentProviderError,
    ProviderUnavailable,
    RateLimited,
)
from keepwarm.connectors.microsoft.graph import GraphClient
from keepwarm.connectors.sandbox.microsoft import Limits, MicrosoftSandbox
from tests.support.google import ManualClock
from tests.support.microsoft import connect


class Recorder:
    """Stands in for time.sleep (no test waits for real) and counts slots and spends."""

    def __init__(self) -> None:
        self.slept: list[float] = []
        self.spent = 0
        self.in_slot = 0
        self.slots = 0

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)

    def spend(self, requests: int) -> None:
        self.spent += requests

    @contextmanager
    def slot(self) -> Iterator[None]:
        self.in_slot += 1
        self.slots += 1
        try:
            yield
        finally:
            self.in_slot -= 1


def client(sandbox: MicrosoftSandbox, recorder: Recorder, **options: float) -> GraphClient:
    auth, grant = connect(sandbox)
    return GraphClient(
        auth.endpoints.graph,
        auth.tokens(grant.tokens),
        slot=recorder.slot,
        spend=recorder.spend,
        sleep=recorder.sleep,
        **options,
    )


def test_retry_after_is_waited_out_and_counted(ms: MicrosoftSandbox) -> None:
    recorder = Recorder()
    graph = client(ms, recorder)
    ms.fail_with_429(2, retry_after=2.128)
    try:
        assert graph.get("/me/mailFolders/inbox")["displayName"] == "Inbox"
    finally:
        graph.close()
    assert recorder.slept == [2.128, 2.128] and graph.waited == pytest.approx(4.256)
    assert recorder.spent == 3 == recorder.slots == graph.requests  # 429s count, as at Graph


def test_a_wait_beyond_max_wait_is_rate_limited(ms: MicrosoftSandbox) -> None:
    recorder = Recorder()
    graph = client(ms, recorder, max_wait=10.0)
    ms.fail_with_429(2, retry_after=6.5)
    try:
        with pytest.raises(RateLimited) as raised:
            graph.get("/me/mailFolders/inbox")
    finally:
        graph.close()
    assert raised.value.retry_after == 6.5 and recorder.slept == [6.5]


def test_one_refresh_on_401_then_auth_expired(ms: MicrosoftSandbox) -> None:
    recorder = Recorder()
    graph = client(ms, recorder)
    try:
        graph.get("/me")
        ms.invalid_grant(50173)
        with pytest.raises(AuthExpired, match="AADSTS50173"):
            graph.get("/me")
    finally:
        graph.close()


def test_failures_are_classified(make_ms: Callable[..., MicrosoftSandbox]) -> None:
    sandbox = make_ms()
    recorder = Recorder()
    graph = client(sandbox, recorder, timeout=0.5)
    try:
        sandbox.fail_with_status(500)
        with pytest.raises(ProviderUnavailable, match="500 InternalServerError"):
            graph.get("/me")
        sandbox.fail_with_status(503)  # with Retry-After: waited like a 429
        assert graph.get("/me")["mail"]
        assert recorder.slept == [1.0]
        sandbox.delay(5.0)
        with pytest.raises(ProviderUnavailable, match="timed out"):
            graph.get("/me")
        with pytest.raises(PermanentProviderError, match="404 ErrorItemNotFound"):
            graph.get("/me/mailFolders/nope")
        with pytest.raises(PermanentProviderError, match="another host"):
            graph.get("https://elsewhere.example/v1.0/me")
    finally:
        graph.close()
        sandbox.stop()


def test_batch_inner_429s_are_waited_out_and_sent_again(
    make_ms: Callable[..., MicrosoftSandbox], ms_clock: ManualClock
) -> None:
    sandbox = make_ms(limits=Limits(requests=5, window=600.0))  # /me at consent, and 4
    recorder = Recorder()
    recorder.sleep = ms_clock.advance  # type: ignore[method-assign]  # waiting moves the clock
    graph = client(sandbox, recorder, max_wait=10_000)
    names = ["inbox", "sentitems", "archive", "drafts", "junkemail"]
    try:
        answers = graph.batch(
            [{"id": n, "method": "GET", "url": f"/me/mailFolders/{n}"} for n in names]
        )
    finally:
        graph.close()
    assert {n: status for n, (status, _) in answers.items()} == dict.fromkeys(names, 200)
    assert recorder.spent == 5 + 1  # each inner request counts, the one sent again too
    assert sandbox.refused() == {"rate": 1}
