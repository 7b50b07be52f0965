"""Outlook's limits in the sandbox (4 requests at once, 10,000 per 10 minutes per app and
mailbox, with Graph's 429 bodies and Retry-After), JSON batches of up to 20 with inner
throttling and dependencies, and faults injected on request, from Python and over HTTP."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from keepwarm.connectors.sandbox.microsoft import Limits, MicrosoftSandbox
from tests.support.google import ManualClock
from tests.support.microsoft import CLIENT_ID, consent, graph


def _token(sandbox: MicrosoftSandbox) -> str:
    return str(consent(sandbox)[1]["access_token"])


def test_a_fifth_request_at_once_gets_mailbox_concurrency(
    make_ms: Callable[..., MicrosoftSandbox],
) -> None:
    sandbox = make_ms(limits=Limits(concurrent=4))
    token = _token(sandbox)
    sandbox.delay(30.0, count=4)  # four slow requests hold the mailbox's four places
    results: list[httpx.Response] = []

    def slow() -> None:
        with graph(sandbox, token) as client:
            results.append(client.get("/me/mailFolders"))

    threads = [threading.Thread(target=slow) for _ in range(4)]
    for thread in threads:
        thread.start()
    with graph(sandbox, token) as client:
        while sandbox.pending_faults():  # until all four have taken their delay
            pass
        refused = client.get("/me/mailFolders/inbox")
    assert refused.status_code == 429
    assert refused.json()["error"] == {
        "code": "ApplicationThrottled",
        "message": "Application is over its MailboxConcurrency limit.",
        "innerError": refused.json()["error"]["innerError"],
    }
    assert float(refused.headers["retry-after"]) > 0
    sandbox.stop()  # wakes the sleeping requests
    for thread in threads:
        thread.join()
    assert sandbox.peak_in_flight == 4 and sandbox.refused() == {"concurrency": 1}


def test_the_ten_minute_window_refuses_with_a_fractional_retry_after(
    make_ms: Callable[..., MicrosoftSandbox], ms_clock: ManualClock
) -> None:
    sandbox = make_ms(limits=Limits(requests=5, window=600.0))
    with graph(sandbox, _token(sandbox)) as client:
        for step in range(5):
            assert client.get("/me/mailFolders/inbox").status_code == 200
            ms_clock.advance(0.5 if step == 1 else 1.0)
        refused = client.get("/me/mailFolders/inbox")
        assert refused.status_code == 429
        body = refused.json()["error"]
        assert body["code"] == "TooManyRequests" and body["message"] == "Please retry again later."
        assert body["innerError"]["code"] == "429" and body["innerError"]["status"] == "429"
        # The refusal counts too: a retry fits once the two oldest requests have left.
        wait = float(refused.headers["retry-after"])
        assert refused.headers["retry-after"] == "596.5" and wait == 600 - 3.5
        ms_clock.advance(wait - 0.01)
        assert client.get("/me/mailFolders/inbox").status_code == 429
        ms_clock.advance(601)
        assert client.get("/me/mailFolders/inbox").status_code == 200
    assert sandbox.refused() == {"rate": 2}
    assert sandbox.window_used(CLIENT_ID) == 1


def test_batches_of_twenty_run_each_request_as_if_alone(
    make_ms: Callable[..., MicrosoftSandbox],
) -> None:
    sandbox = make_ms(limits=Limits(requests=12, window=600.0))
    with graph(sandbox, _token(sandbox)) as client:
        requests = [
            {"id": str(n), "method": "GET", "url": "/me/mailFolders/inbox?$select=displayName"}
            for n in range(20)
        ]
        answer = client.post("/$batch", json={"requests": requests})
        assert answer.status_code == 200
        responses = {r["id"]: r for r in answer.json()["responses"]}
        statuses = sorted(r["status"] for r in responses.values())
        assert statuses == [200] * 12 + [429] * 8
        limited = next(r for r in responses.values() if r["status"] == 429)
        assert limited["body"]["error"]["code"] == "TooManyRequests"
        assert float(limited["headers"]["Retry-After"]) > 0
        ok = next(r for r in responses.values() if r["status"] == 200)
        assert ok["body"]["displayName"] == "Inbox"
        too_many = client.post(
            "/$batch", json={"requests": [*requests, dict(requests[0], id="20")]}
        )
        assert too_many.status_code == 400
    assert sandbox.peak_in_flight <= 4  # a batch runs four at a time


def test_batch_dependencies(make_ms: Callable[..., MicrosoftSandbox]) -> None:
    sandbox = make_ms()
    with graph(sandbox, _token(sandbox)) as client:
        answer = client.post(
            "/$batch",
            json={
                "requests": [
                    {"id": "a", "method": "GET", "url": "/me/mailFolders/nope"},
                    {"id": "b", "method": "GET", "url": "/me", "dependsOn": ["a"]},
                    {"id": "c", "method": "GET", "url": "me/mailFolders/sentitems"},
                ]
            },
        ).json()
    statuses = {r["id"]: r["status"] for r in answer["responses"]}
    assert statuses == {"a": 404, "b": 424, "c": 200}


def test_faults_on_request(make_ms: Callable[..., MicrosoftSandbox]) -> None:
    sandbox = make_ms()
    token = _token(sandbox)
    sandbox.fail_with_429(retry_after=2.128)
    sandbox.fail_with_status(503)
    sandbox.fail_with_status(500, path_prefix="/common/oauth2/v2.0/token")
    with graph(sandbox, token) as client:
        limited = client.get("/me")
        assert limited.status_code == 429 and limited.headers["retry-after"] == "2.128"
        unavailable = client.get("/me")
        assert unavailable.status_code == 503
        assert unavailable.json()["error"]["code"] == "ServiceUnavailable"
        assert client.get("/me").status_code == 200
    token_error = httpx.post(sandbox.url + "/common/oauth2/v2.0/token", data={"grant_type": "x"})
    assert token_error.status_code == 500
    assert token_error.json()["error"] == "temporarily_unavailable"
    assert sandbox.pending_faults() == []


def test_admin_endpoints_drive_it_from_another_process(
    make_ms: Callable[..., MicrosoftSandbox],
) -> None:
    sandbox = make_ms()
    admin = httpx.Client(base_url=sandbox.url + "/_sandbox", timeout=5)
    with admin:
        queued = admin.post(
            "/faults", json=[{"kind": "rate_limit", "count": 2, "retry_after": 0.5}]
        )
        assert queued.json()["pending"][0]["count"] == 2
        assert admin.delete("/faults").json() == {"pending": []}
        assert admin.post("/faults", json={"kind": "nonsense"}).status_code == 400
        message = sandbox.message_ids("inbox")[0]
        moved = admin.post(f"/messages/{message}/move", json={"folder": "archive"}).json()
        assert moved["ok"] and moved["id"] in sandbox.message_ids("archive")
        event = sandbox.event_ids()[0]
        assert admin.post(f"/events/{event}/cancel").json() == {"ok": True}
        assert admin.post("/events/nope/cancel").status_code == 400
        assert (
            admin.post("/faults", json={"kind": "invalid_grant", "aadsts": 50173}).status_code
            == 200
        )
        stats: dict[str, Any] = admin.get("/stats").json()
    assert stats["user"] == sandbox.user_email and stats["folders"]["Archive"] == 1
    assert stats["clients"] == []  # nobody has asked for a token


def test_concurrency_storm_from_many_threads(make_ms: Callable[..., MicrosoftSandbox]) -> None:
    sandbox = make_ms(limits=Limits(concurrent=4))
    token = _token(sandbox)
    sandbox.delay(0.05, count=200)

    def one(_: int) -> int:
        with graph(sandbox, token) as client:
            return client.get("/me/mailFolders/inbox").status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(one, range(48)))
    assert set(statuses) <= {200, 429} and 429 in statuses and 200 in statuses
    assert sandbox.peak_in_flight == 4
    assert sandbox.refused()["concurrency"] == statuses.count(429)
