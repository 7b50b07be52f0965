"""The sandbox's calendar view delta: a date range fixed into the tokens, series as
occurrences with their master id, exceptions, cancelled occurrences, and the changes of later
rounds (cancelled, moved, moved out of range, deleted)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from keepwarm.connectors.sandbox.microsoft import MicrosoftSandbox
from tests.support.microsoft import consent, graph, read_round

VIEW = "/me/calendarView/delta?startDateTime=2012-01-01T00:00:00Z&endDateTime=2021-01-01T00:00:00Z"


@pytest.fixture
def client(ms: MicrosoftSandbox) -> Iterator[httpx.Client]:
    _, result = consent(ms)
    with graph(ms, result["access_token"]) as client:
        yield client


def _start(event: dict[str, object]) -> datetime:
    start = event["start"]
    assert isinstance(start, dict) and start["timeZone"] == "UTC"
    return datetime.fromisoformat(str(start["dateTime"])[:26]).replace(tzinfo=UTC)


def test_the_view_holds_occurrences_exceptions_and_cancellations(client: httpx.Client) -> None:
    events, delta_link, pages = read_round(client, VIEW, page_size=50)
    assert pages > 1 and "$deltatoken=" in delta_link
    low, high = datetime(2012, 1, 1, tzinfo=UTC), datetime(2021, 1, 1, tzinfo=UTC)
    assert all(low <= _start(e) < high for e in events)
    kinds = {e["type"] for e in events}
    assert {"occurrence", "exception"} <= kinds
    series = [e for e in events if e["type"] in ("occurrence", "exception")]
    assert all(e["seriesMasterId"] and e["originalStart"].endswith("Z") for e in series)
    # One series, one master id; each occurrence its own id and iCalUId.
    crazy = [e for e in series if e["subject"] == "Crazy Event Thingy!"]
    assert len({e["seriesMasterId"] for e in crazy}) == 1
    assert len({e["id"] for e in crazy}) == len({e["iCalUId"] for e in crazy}) == len(crazy)
    exceptions = {e["originalStart"]: e for e in crazy if e["type"] == "exception"}
    assert set(exceptions) == {"2012-10-02T17:00:00Z", "2012-11-05T18:00:00Z"}  # RECURRENCE-IDs
    moved = exceptions["2012-10-02T17:00:00Z"]
    assert _start(moved) == datetime(2012, 10, 2, 22, 0, tzinfo=UTC)
    cancelled = [e for e in events if e["subject"] == "one is cancelled"]
    assert [e["isCancelled"] for e in cancelled] == [False, True, False]
    organized = next(e for e in crazy if e["type"] == "occurrence")
    assert organized["organizer"]["emailAddress"]["address"] == "jlal@mozilla.com"
    assert {a["emailAddress"]["address"] for a in organized["attendees"]} >= {
        "calmozilla1@gmail.com"
    }
    assert all("body" not in e for e in events)  # Calendars.ReadBasic


def test_later_rounds_bring_changes_and_removals(
    ms: MicrosoftSandbox, client: httpx.Client
) -> None:
    events, link, _ = read_round(client, VIEW, page_size=200)
    by_subject = [e for e in events if e["subject"] == "one is cancelled"]
    first, _, third = by_subject
    crazy = [
        e for e in events if e["subject"] == "Crazy Event Thingy!" and e["type"] == "occurrence"
    ]
    ms.cancel_event(first["id"])
    ms.move_event(third["id"], _start(third) + timedelta(hours=2))
    ms.move_event(crazy[0]["id"], datetime(2030, 1, 1, tzinfo=UTC))  # out of the range
    ms.delete_event(crazy[1]["id"])
    changes, link, _ = read_round(client, link)
    by_id = {e["id"]: e for e in changes}
    assert by_id[first["id"]]["isCancelled"] is True
    assert by_id[third["id"]]["type"] == "exception"
    assert _start(by_id[third["id"]]) == _start(third) + timedelta(hours=2)
    assert by_id[crazy[0]["id"]] == {
        "@odata.type": "#microsoft.graph.event",
        "id": crazy[0]["id"],
        "@removed": {"reason": "deleted"},
    }
    assert "@removed" in by_id[crazy[1]["id"]]
    assert len(changes) == 4
    assert read_round(client, link)[0] == []


def test_range_is_required_and_select_refused(ms: MicrosoftSandbox, client: httpx.Client) -> None:
    missing = client.get("/me/calendarView/delta")
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == "ErrorInvalidParameter"
    assert client.get(VIEW + "&$select=subject").status_code == 400
    _, link, _ = read_round(client, VIEW, page_size=500)
    ms.expire_delta_tokens("calendar")
    gone = client.get(link)
    assert gone.status_code == 410 and gone.json()["error"]["code"] == "SyncStateNotFound"


def test_prefer_time_zone(client: httpx.Client) -> None:
    answer = client.get(
        VIEW, headers={"Prefer": 'outlook.timezone="Europe/Berlin", odata.maxpagesize=1'}
    )
    (event,) = answer.json()["value"]
    assert event["start"]["timeZone"] == "Europe/Berlin"
    assert answer.headers["preference-applied"] == 'outlook.timezone="Europe/Berlin"'
