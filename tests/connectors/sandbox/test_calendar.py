"""Calendar v3 through googleapiclient against the sandbox: calendar list, singleEvents
expansion, paging, incremental sync by syncToken, live changes, and 410 on stale tokens."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from googleapiclient.errors import HttpError

from keepwarm.connectors.sandbox.google import GoogleSandbox
from tests.support.google import ManualClock, authorize, calendar_service
from tests.support.paths import RECUR
from tests.support.paths import SANDBOX_OWNER as OWNER
from tests.support.paths import TEST_DATA as DATA

CANCEL_ONE = DATA / "ics" / "recurring-ical-events" / "issue_18_cancel_status.ics"
DECLINED = DATA / "ics" / "apparmor" / "008-declined.ics"
SERIES = "623c13c0-6c2b-45d6-a12b-c33ad61c4868"  # the series in recur_instances.ics


@pytest.fixture
def calendar(sandbox: GoogleSandbox, creds: Any) -> Iterator[Any]:
    service = calendar_service(sandbox, creds)
    yield service
    service.close()


def sync(calendar: Any, **query: Any) -> tuple[list[dict[str, Any]], str, int]:
    """Every page of events.list: (items, nextSyncToken, pages)."""
    items: list[dict[str, Any]] = []
    pages = 0
    token = None
    while True:
        page = calendar.events().list(calendarId="primary", singleEvents=True, **query).execute()
        pages += 1
        items.extend(page["items"])
        if "nextPageToken" in page:
            assert "nextSyncToken" not in page  # only the last page carries the sync token
            query["pageToken"] = page["nextPageToken"]
            continue
        token = page["nextSyncToken"]
        return items, token, pages


def test_calendar_list_has_the_primary_calendar(calendar: Any) -> None:
    listed = calendar.calendarList().list().execute()
    assert [entry["id"] for entry in listed["items"]] == [OWNER]
    assert listed["items"][0]["primary"] is True and listed["items"][0]["accessRole"] == "owner"
    assert calendar.calendarList().get(calendarId="primary").execute()["id"] == OWNER


def test_full_sync_expands_the_series_into_instances(calendar: Any) -> None:
    items, token, pages = sync(calendar, maxResults=50)
    assert pages == 4 and len(items) == len({item["id"] for item in items}) == 184
    assert token
    assert all(item["iCalUID"] == SERIES and item["status"] == "confirmed" for item in items)
    assert {item["recurringEventId"] for item in items} == {items[0]["id"].split("_")[0]}
    # The RECURRENCE-ID override moved the 2 October 2012 occurrence from 10:00 to 15:00 PDT.
    moved = next(i for i in items if i["originalStartTime"]["dateTime"] == "2012-10-02T17:00:00Z")
    assert moved["start"]["dateTime"] == "2012-10-02T22:00:00Z"
    assert moved["id"].endswith("_20121002T170000Z")
    assert moved["organizer"] == {"email": "jlal@mozilla.com", "displayName": "James Lal"}
    with_guests = next(i for i in items if "attendees" in i)
    assert with_guests["attendees"][0] == {
        "email": "calmozilla1@gmail.com",
        "displayName": "Sahaja Lal",
        "responseStatus": "accepted",
    }
    assert {a["responseStatus"] for a in with_guests["attendees"]} == {"accepted", "needsAction"}
    # EXDATEs are not instances.
    assert not any(i["id"].endswith("_20121204T180000Z") for i in items)
    got = calendar.events().get(calendarId=OWNER, eventId=moved["id"]).execute()
    assert got == moved


def test_time_bounds_select_by_end_and_start(calendar: Any) -> None:
    items, _, _ = sync(
        calendar, timeMin="2013-01-01T00:00:00Z", timeMax="2014-01-01T00:00:00-08:00"
    )
    starts = sorted(item["start"]["dateTime"] for item in items)
    assert starts and starts[0] >= "2013-01-01" and starts[-1] < "2014-01-01T08"
    assert len(items) == 10  # monthly, less the 5 February and 2 April 2013 EXDATEs


def test_incremental_sync_sees_added_cancelled_and_moved_events(
    sandbox: GoogleSandbox, calendar: Any
) -> None:
    items, token, _ = sync(calendar)
    unchanged, token2, _ = sync(calendar, syncToken=token)
    assert unchanged == [] and token2

    added = sandbox.add_events([CANCEL_ONE, DECLINED])
    changes, token3, _ = sync(calendar, syncToken=token2)
    assert sorted(change["id"] for change in changes) == sorted(added)
    statuses = sorted(change["status"] for change in changes)
    assert statuses.count("cancelled") == 1  # one of the three occurrences was cancelled
    declined = next(c for c in changes if c.get("attendees"))
    assert "declined" in {a["responseStatus"] for a in declined["attendees"]}

    target = items[10]
    sandbox.cancel_event(target["id"])
    new_start = datetime(2030, 1, 1, 9, tzinfo=UTC)
    sandbox.move_event(items[11]["id"], new_start)
    changes, token4, _ = sync(calendar, syncToken=token3)
    assert [c["id"] for c in changes] == [target["id"], items[11]["id"]]
    cancelled, moved = changes
    # A cancelled instance carries only what Calendar guarantees.
    assert set(cancelled) == {
        "kind",
        "etag",
        "id",
        "status",
        "recurringEventId",
        "originalStartTime",
    }
    assert cancelled["status"] == "cancelled"
    assert moved["start"]["dateTime"] == "2030-01-01T09:00:00Z"
    assert moved["originalStartTime"] == items[11]["originalStartTime"]
    assert moved["sequence"] == 1 and moved["etag"] != items[11]["etag"]
    # Without showDeleted a full sync leaves the cancelled instance out; with it, it is listed.
    assert target["id"] not in {i["id"] for i in sync(calendar)[0]}
    assert target["id"] in {i["id"] for i in sync(calendar, showDeleted=True)[0]}
    assert sync(calendar, syncToken=token4)[0] == []


def test_stale_sync_token_gives_410_full_sync_required(
    sandbox: GoogleSandbox, calendar: Any
) -> None:
    _, token, _ = sync(calendar, maxResults=100)
    sandbox.expire_sync_tokens()
    with pytest.raises(HttpError) as raised:
        calendar.events().list(calendarId="primary", singleEvents=True, syncToken=token).execute()
    assert raised.value.status_code == 410
    assert raised.value.error_details == [
        {
            "message": "Sync token is no longer valid, a full sync is required.",
            "domain": "calendar",
            "reason": "fullSyncRequired",
            "locationType": "parameter",
            "location": "syncToken",
        }
    ]
    with pytest.raises(HttpError) as forged:
        calendar.events().list(calendarId="primary", singleEvents=True, syncToken="junk").execute()
    assert forged.value.status_code == 410
    _, fresh, _ = sync(calendar, maxResults=100)  # a full sync gives a token that works
    assert sync(calendar, syncToken=fresh)[0] == []


def test_bad_queries_are_refused(calendar: Any) -> None:
    cases = [
        {"singleEvents": False},
        {"singleEvents": True, "syncToken": "x", "timeMin": "2013-01-01T00:00:00Z"},
        {"singleEvents": True, "timeMin": "2013-01-01T00:00:00"},  # no offset
        {"singleEvents": True, "pageToken": "bm90IGEgdG9rZW4"},
    ]
    for query in cases:
        with pytest.raises(HttpError) as raised:
            calendar.events().list(calendarId="primary", **query).execute()
        assert raised.value.status_code == 400, query
    with pytest.raises(HttpError) as missing:
        calendar.events().list(calendarId="someone@else.com", singleEvents=True).execute()
    assert missing.value.status_code == 404


def test_calendar_rate_limit_is_separate_from_gmail(make_sandbox: Any, clock: ManualClock) -> None:
    sandbox = make_sandbox(
        RECUR, user_email=OWNER, calendar_requests_per_second=3, quota_units_per_second=250
    )
    calendar = calendar_service(sandbox, authorize(sandbox))
    try:
        for _ in range(3):
            calendar.calendarList().list().execute()
        with pytest.raises(HttpError) as raised:
            calendar.calendarList().list().execute()
        assert raised.value.status_code == 429
        assert raised.value.resp["retry-after"] == "1"
        assert raised.value.error_details[0]["domain"] == "usageLimits"
        clock.advance(1.0)
        calendar.calendarList().list().execute()
    finally:
        calendar.close()
    assert sandbox.units_spent() == 0  # Calendar calls cost no Gmail units
    assert sandbox.call_counts() == {"calendar.calendarList.list": 4}
    assert sandbox.refused_counts() == {"calendar.calendarList.list": 1}
