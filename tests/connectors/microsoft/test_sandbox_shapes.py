"""Every kind of response the sandbox gives, checked against Microsoft's documentation: the
property tables of the resource pages (names and types) and the example responses (envelopes,
`@removed` entries, links, nested shapes, error bodies) in ../shared/data/api/
msgraph-docs-examples."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from keepwarm.connectors.sandbox.microsoft import MicrosoftSandbox
from tests.support.graph_schema import DOCS, check
from tests.support.microsoft import consent, graph, read_round

pytestmark = pytest.mark.skipif(
    not DOCS.is_dir(), reason="the shared Graph documentation archive is not here"
)
VIEW = "/me/calendarView/delta?startDateTime=2012-01-01T00:00:00Z&endDateTime=2021-01-01T00:00:00Z"


def example(name: str) -> Any:
    """One of the documentation's example responses."""
    return json.loads((DOCS / "responses" / f"{name}.json").read_text())


def shape(value: Any) -> Any:
    """The shape of a JSON value: objects by their keys' shapes, lists by their first item."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


@pytest.fixture
def client(ms: MicrosoftSandbox) -> Iterator[httpx.Client]:
    _, result = consent(ms, scopes=["Mail.ReadBasic", "Calendars.ReadBasic", "User.Read"])
    with graph(ms, result["access_token"]) as client:
        yield client


def test_the_checker_catches_what_it_must() -> None:
    assert check({"subject": "x", "isRead": True}, "message") == []
    assert check({"subject": 3}, "message") == ["$.subject: expected a string"]
    assert check({"bogus": 1}, "message") == ["$: 'bogus' is not a property of message"]
    assert check({"sentDateTime": "2018-09-09 03:15"}, "message")[0].startswith(
        "$.sentDateTime: not a UTC DateTimeOffset"
    )
    assert check({"start": {"dateTime": "2016-12-09T20:30:00", "timeZone": "UTC"}}, "event")[
        0
    ].startswith("$.start.dateTime: not Graph's local date-time")
    assert check({"toRecipients": [{"emailAddress": {"address": 1}}]}, "message") == [
        "$.toRecipients[0].emailAddress.address: expected a string"
    ]
    # The documentation's own examples pass.
    assert check(example("api-reference__v1.0__api__message-get.response1"), "message") == []
    for item in example("concepts__delta-query-events.response4")["value"]:
        assert check(item, "event") == []


def test_message_delta_pages_match_the_documentation(
    ms: MicrosoftSandbox, client: httpx.Client
) -> None:
    documented = example("concepts__delta-query-messages.jsonblock1")
    page = client.get(
        "/me/mailFolders/inbox/messages/delta?$select=subject,isRead,sender",
        headers={"Prefer": "odata.maxpagesize=2"},
    ).json()
    assert list(page) == list(documented)  # @odata.context, @odata.nextLink, value
    assert page["@odata.context"].endswith("/v1.0/$metadata#Collection(message)")
    assert "/me/mailfolders('" in page["@odata.nextLink"]
    assert page["@odata.nextLink"].split("?")[1].startswith("$skiptoken=")
    # The same properties in the same shapes as the documented page (and no more).
    assert [shape(item) for item in page["value"]] == [
        shape({k: v for k, v in item.items()}) for item in documented["value"]
    ]
    for item in page["value"]:
        assert check(item, "message") == []
    # A full message (no $select) conforms to the resource page, and nests like message-get.
    full = read_round(client, "/me/mailFolders/sentitems/messages/delta")[0]
    got = example("api-reference__v1.0__api__message-get.response1")
    for item in full:
        assert check(item, "message") == []
        for name in ("from", "sender", "flag"):
            assert shape(item[name]) == shape(got[name])
        if item["toRecipients"]:
            assert shape(item["toRecipients"])[0] == shape(got["toRecipients"])[0]
        assert item["inferenceClassification"] in ("focused", "other")
    # A round's end and a removal, as in the documented second round.
    closing = example("concepts__delta-query-messages.jsonblock4")
    _, link, _ = read_round(client, "/me/mailFolders/inbox/messages/delta?$select=subject")
    ms.delete_message(ms.message_ids("inbox")[0])
    after = client.get(link).json()
    assert list(after) == list(closing)
    assert "$deltatoken=" in after["@odata.deltaLink"]
    removed = [item for item in after["value"] if "@removed" in item]
    assert [shape(item) for item in removed] == [shape(closing["value"][0])]


def test_calendar_delta_pages_match_the_documentation(
    ms: MicrosoftSandbox, client: httpx.Client
) -> None:
    documented = example("concepts__delta-query-events.response1")
    page = client.get(VIEW, headers={"Prefer": "odata.maxpagesize=2"}).json()
    assert list(page) == list(documented)
    assert page["@odata.nextLink"].startswith(ms.graph_url + "/me/calendarView/delta?$skiptoken=")
    for item in page["value"]:
        assert check(item, "event") == []
        # Every property of the documented items is there, in the documented shape (the
        # body excepted: Calendars.ReadBasic leaves it out).
        for name, value in documented["value"][0].items():
            if name == "body":
                assert name not in item
            elif name not in ("attendees",):
                assert shape(item[name]) == shape(value), name
    events, link, _ = read_round(client, VIEW, page_size=500)
    attended = next(e for e in events if e["attendees"])
    assert shape(attended["attendees"][0]) == {
        "type": "str",
        "status": {"response": "str", "time": "str"},
        "emailAddress": {"name": "str", "address": "str"},
    }
    for item in events:
        assert check(item, "event") == []
    closing = example("concepts__delta-query-events.response4")
    ms.delete_event(events[0]["id"])
    after = client.get(link).json()
    assert list(after) == list(closing)
    assert [shape(i) for i in after["value"]] == [shape(closing["value"][0])]


def test_error_bodies_match_the_documentation(client: httpx.Client) -> None:
    documented = example("concepts__delta-query-overview.response1")["error"]
    error = client.get("/me/mailFolders/nope").json()["error"]
    assert set(error) == set(documented)
    assert set(documented["innerError"]) <= set(error["innerError"])
    assert client.get("/me/calendarView/delta").json()["error"].keys() == documented.keys()
