"""Quota (Gmail units per moving second, batches included) and injected faults, driven from
Python and from another process's point of view (the /_sandbox HTTP endpoints)."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from googleapiclient.errors import HttpError

from keepwarm.connectors.sandbox.google import GoogleSandbox
from tests.support.google import (
    ManualClock,
    authorize,
    calendar_service,
    click,
    flow,
    gmail_service,
    post_form,
    post_json,
    raw_get,
)
from tests.support.paths import ENRON, RECUR
from tests.support.paths import SANDBOX_OWNER as OWNER


@pytest.fixture
def limited(make_sandbox: Any) -> GoogleSandbox:
    """A sandbox with Gmail's real per-user quota: 250 units per moving second."""
    sandbox: GoogleSandbox = make_sandbox(ENRON, RECUR, quota_units_per_second=250)
    return sandbox


def _ids(gmail: Any, count: int) -> list[str]:
    listed = gmail.users().messages().list(userId="me", maxResults=count).execute()
    return [m["id"] for m in listed["messages"]]


def test_burst_over_250_units_gets_429_with_retry_after(
    limited: GoogleSandbox, clock: ManualClock
) -> None:
    gmail = gmail_service(limited, authorize(limited))
    try:
        ids = _ids(gmail, 60)  # 5 units
        clock.advance(1.0)
        for message_id in ids[:50]:  # 50 x 5 = 250 units: exactly the limit
            gmail.users().messages().get(userId="me", id=message_id, format="minimal").execute()
        clock.advance(0.4)
        with pytest.raises(HttpError) as raised:
            gmail.users().messages().get(userId="me", id=ids[50], format="minimal").execute()
        error = raised.value
        assert error.status_code == 429 and error.resp["retry-after"] == "1"
        assert error.error_details[0]["reason"] == "rateLimitExceeded"
        assert error.error_details[0]["domain"] == "usageLimits"
        assert str(error.reason).startswith("User-rate limit exceeded.  Retry after 20")
        clock.advance(0.6)  # the first calls leave the moving second
        gmail.users().messages().get(userId="me", id=ids[50], format="minimal").execute()
    finally:
        gmail.close()
    assert limited.units_spent() == 5 + 250 + 5  # the refused call cost nothing
    assert limited.call_counts(OWNER) == {
        "gmail.users.messages.list": 1,
        "gmail.users.messages.get": 51,
    }
    assert limited.refused_counts() == {"gmail.users.messages.get": 1}
    assert raw_get(limited, "/gmail/v1/users/me/profile", "nope")[0] == 401
    # unauthenticated calls are not counted either
    assert limited.units_spent() == 260


def test_batch_inner_calls_are_charged_and_fail_one_by_one(
    limited: GoogleSandbox, clock: ManualClock
) -> None:
    gmail = gmail_service(limited, authorize(limited))
    outcomes: dict[str, Any] = {}
    try:
        ids = _ids(gmail, 60)
        clock.advance(1.0)
        batch = gmail.new_batch_http_request(
            callback=lambda request_id, _response, error: outcomes.__setitem__(request_id, error)
        )
        for message_id in ids:
            batch.add(
                gmail.users().messages().get(userId="me", id=message_id, format="metadata"),
                request_id=message_id,
            )
        batch.execute()  # the batch itself answers 200
    finally:
        gmail.close()
    refused = [e for e in outcomes.values() if e is not None]
    assert len(outcomes) == 60 and len(refused) == 10
    assert all(e.status_code == 429 and e.resp["retry-after"] == "1" for e in refused)
    assert [outcomes[i] is None for i in ids] == [True] * 50 + [False] * 10
    assert limited.units_spent() == 5 + 250


def test_faults_from_another_process(limited: GoogleSandbox) -> None:
    creds = authorize(limited)
    gmail = gmail_service(limited, creds)
    try:
        status, body = post_json(
            limited,
            "/_sandbox/faults",
            [
                {
                    "kind": "rate_limit",
                    "count": 2,
                    "retry_after": 7,
                    "path_prefix": "/gmail/v1/users/me/messages",
                },
                {"kind": "server_error", "status": 500},
                {"kind": "server_error", "status": 503},
            ],
        )
        assert status == 200 and len(body["pending"]) == 3
        for _ in range(2):
            with pytest.raises(HttpError) as limited_error:
                gmail.users().messages().list(userId="me").execute()
            assert limited_error.value.resp["retry-after"] == "7"
        for expected in (500, 503):
            with pytest.raises(HttpError) as server_error:
                gmail.users().getProfile(userId="me").execute()
            assert server_error.value.status_code == expected
        gmail.users().messages().list(userId="me").execute()
        assert raw_get(limited, "/_sandbox/faults", None)[2] == {"pending": []}

        assert post_json(limited, "/_sandbox/faults", {"kind": "explode"})[0] == 400
        assert (
            post_json(limited, "/_sandbox/faults", {"kind": "server_error", "status": 418})[0]
            == 400
        )

        start = gmail.users().getProfile(userId="me").execute()["historyId"]
        assert post_json(limited, "/_sandbox/faults", {"kind": "expire_history"})[0] == 200
        with pytest.raises(HttpError) as gone:
            gmail.users().history().list(userId="me", startHistoryId=start).execute()
        assert gone.value.status_code == 404

        assert post_json(limited, "/_sandbox/faults", {"kind": "revoke_grant"})[0] == 200
        assert raw_get(limited, "/gmail/v1/users/me/profile", creds.token)[0] == 401
        url, _ = flow(limited).authorization_url(access_type="offline")
        assert click(url)[1]["error"] == ["access_denied"]
        assert post_json(limited, "/_sandbox/faults", {"kind": "restore_grant"})[0] == 200
        assert "code" in click(flow(limited).authorization_url(access_type="offline")[0])[1]
    finally:
        gmail.close()


def test_seed_stats_and_event_changes_over_http(limited: GoogleSandbox) -> None:
    creds = authorize(limited)
    before = limited.stats()
    status, body = post_json(
        limited, "/_sandbox/seed", {"paths": [str(ENRON.parent.parent / "maildir")]}
    )
    assert status == 200 and int(body["historyId"]) > int(str(before["historyId"]))
    assert post_json(limited, "/_sandbox/seed", {"paths": ["/no/such/path"]})[0] == 400
    calendar = calendar_service(limited, creds)
    try:
        page = (
            calendar.events()
            .list(calendarId="primary", singleEvents=True, maxResults=2500)
            .execute()
        )
        target = page["items"][0]["id"]
        assert post_json(limited, f"/_sandbox/events/{target}/cancel", {})[0] == 200
        assert (
            post_json(
                limited, f"/_sandbox/events/{target}/move", {"start": "2031-01-01T10:00:00+00:00"}
            )[0]
            == 200
        )
        assert post_json(limited, "/_sandbox/events/nope/cancel", {})[0] == 400
        changes = (
            calendar.events()
            .list(calendarId="primary", singleEvents=True, syncToken=page["nextSyncToken"])
            .execute()
        )
        assert [c["id"] for c in changes["items"]] == [target]
        assert post_json(limited, "/_sandbox/faults", {"kind": "expire_sync_tokens"})[0] == 200
        with pytest.raises(HttpError) as gone:
            calendar.events().list(
                calendarId="primary", singleEvents=True, syncToken=changes["nextSyncToken"]
            ).execute()
        assert gone.value.status_code == 410
    finally:
        calendar.close()
    stats = raw_get(limited, "/_sandbox/stats", None)[2]
    assert stats["user"] == OWNER and stats["calls"]["calendar.events.list"] == 2
    assert stats["messages"] >= before["messages"]  # type: ignore[operator]


def test_faults_inside_a_batch_hit_inner_calls(limited: GoogleSandbox) -> None:
    gmail = gmail_service(limited, authorize(limited))
    errors: list[Any] = []
    try:
        ids = _ids(gmail, 5)
        limited.fail_with_429(2, retry_after=3, path_prefix="/gmail/v1/users/me/messages/")
        batch = gmail.new_batch_http_request(callback=lambda _i, _r, e: errors.append(e))
        for message_id in ids:
            batch.add(gmail.users().messages().get(userId="me", id=message_id, format="minimal"))
        batch.execute()
    finally:
        gmail.close()
    assert [e.resp["retry-after"] if e else None for e in errors] == ["3", "3", None, None, None]


def test_delay_makes_a_client_time_out(limited: GoogleSandbox) -> None:
    creds = authorize(limited)
    limited.delay(1.0, path_prefix="/gmail/v1/users/me/profile")
    impatient = gmail_service(limited, creds, timeout=0.3)
    try:
        with pytest.raises((TimeoutError, socket.timeout)):
            impatient.users().getProfile(userId="me").execute()
        assert impatient.users().getProfile(userId="me").execute()["emailAddress"] == OWNER
    finally:
        impatient.close()


def test_token_endpoint_faults_speak_oauth(limited: GoogleSandbox) -> None:
    limited.fail_with_status(503, path_prefix="/token")
    limited.fail_with_429(1, retry_after=2, path_prefix="/token")
    status, body = post_form(limited, "/token", {"grant_type": "refresh_token"})
    assert (status, body["error"]) == (503, "temporarily_unavailable")
    status, body = post_form(limited, "/token", {"grant_type": "refresh_token"})
    assert (status, body["error"]) == (429, "rate_limit_exceeded")
    # Without a prefix, faults never touch the OAuth endpoints.
    limited.fail_with_status(500)
    assert post_form(limited, "/token", {"grant_type": "nope", "client_id": "x"})[0] == 400
    assert [f.kind.value for f in limited.pending_faults()] == ["server_error"]
    limited.clear_faults()
    assert limited.pending_faults() == []
