"""Every kind of response the sandbox gives, checked against Google's discovery documents."""

from __future__ import annotations

from typing import Any

import pytest

from keepwarm.connectors.sandbox.google import GoogleSandbox
from tests.support.discovery_schema import check
from tests.support.google import authorize, calendar_service, discovery, gmail_service
from tests.support.paths import ENRON, TAKEOUT
from tests.support.paths import TEST_DATA as DATA


def test_the_checker_catches_what_it_must() -> None:
    gmail = discovery("gmail.v1")
    assert check({"id": "1", "historyId": "5", "internalDate": "7"}, "Message", gmail) == []
    assert check({"historyId": 5}, "Message", gmail) == ["$.historyId: expected a string, got 5"]
    assert check({"internalDate": "yesterday"}, "Message", gmail)[0].startswith(
        "$.internalDate: int64 must be a decimal string"
    )
    assert check({"snippet": "", "body": "x"}, "Message", gmail) == [
        "$: field 'body' is not in the schema"
    ]
    assert check({"labels": [{"type": "robot"}]}, "ListLabelsResponse", gmail) == [
        "$.labels[0].type: 'robot' not one of ['system', 'user']"
    ]
    calendar = discovery("calendar.v3")
    assert check({"start": {"dateTime": "2020-01-01 10:00"}}, "Event", calendar) == [
        "$.start.dateTime: not RFC 3339: '2020-01-01 10:00'"
    ]
    assert check({"attendees": [{"email": "a@b", "self": "yes"}]}, "Event", calendar) == [
        "$.attendees[0].self: expected a boolean, got 'yes'"
    ]


def test_every_gmail_response_matches_the_discovery_schemas(make_sandbox: Any) -> None:
    sandbox: GoogleSandbox = make_sandbox(ENRON / "sent", TAKEOUT)
    gmail = gmail_service(sandbox, authorize(sandbox))
    try:
        _check_gmail(sandbox, gmail)
    finally:
        gmail.close()


def _check_gmail(sandbox: GoogleSandbox, gmail: Any) -> None:
    document = discovery("gmail.v1")
    users = gmail.users()
    profile = users.getProfile(userId="me").execute()
    listed = users.messages().list(userId="me", maxResults=20, includeSpamTrash=True).execute()
    first = listed["messages"][0]
    captured: list[tuple[str, Any]] = [
        ("Profile", profile),
        ("ListMessagesResponse", listed),
        ("ListMessagesResponse", users.messages().list(userId="me", labelIds=["CHAT"]).execute()),
        ("ListLabelsResponse", users.labels().list(userId="me").execute()),
        ("Message", users.messages().get(userId="me", id=first["id"], format="metadata").execute()),
        ("Message", users.messages().get(userId="me", id=first["id"], format="minimal").execute()),
        (
            "Thread",
            users.threads().get(userId="me", id=first["threadId"], format="metadata").execute(),
        ),
    ]
    start = profile["historyId"]
    sandbox.add_messages([ENRON / "inbox"])  # new mail: messagesAdded records
    sandbox.add_messages([ENRON / "_sent_mail", ENRON / "all_documents"])  # labelsAdded too
    history = users.history().list(userId="me", startHistoryId=start, maxResults=3).execute()
    everything = users.history().list(userId="me", startHistoryId=start, maxResults=500).execute()
    captured += [("ListHistoryResponse", history), ("ListHistoryResponse", everything)]
    kinds = {key for record in everything["history"] for key in record}
    assert {"messagesAdded", "labelsAdded"} <= kinds and "nextPageToken" in history
    for schema_id, value in captured:
        assert check(value, schema_id, document) == [], (schema_id, value)


@pytest.mark.parametrize("show_deleted", [False, True])
def test_every_calendar_response_matches_the_discovery_schemas(
    sandbox: GoogleSandbox, creds: Any, show_deleted: bool
) -> None:
    document = discovery("calendar.v3")
    calendar = calendar_service(sandbox, creds)
    try:
        events = calendar.events()
        full = events.list(
            calendarId="primary", singleEvents=True, maxResults=100, showDeleted=show_deleted
        ).execute()
        rest = events.list(
            calendarId="primary", singleEvents=True, pageToken=full["nextPageToken"]
        ).execute()
        sandbox.add_events([DATA / "ics" / "apparmor" / "008-declined.ics"])
        sandbox.cancel_event(full["items"][0]["id"])
        changes = events.list(
            calendarId="primary", singleEvents=True, syncToken=rest["nextSyncToken"]
        ).execute()
        captured: list[tuple[str, Any]] = [
            ("CalendarList", calendar.calendarList().list().execute()),
            ("CalendarListEntry", calendar.calendarList().get(calendarId="primary").execute()),
            ("Events", full),
            ("Events", rest),
            ("Events", changes),
            ("Event", events.get(calendarId="primary", eventId=full["items"][1]["id"]).execute()),
        ]
    finally:
        calendar.close()
    assert {item["status"] for item in changes["items"]} == {"confirmed", "cancelled"}
    for schema_id, value in captured:
        assert check(value, schema_id, document) == [], (schema_id, value)
