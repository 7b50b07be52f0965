"""Gmail history through googleapiclient: records for live deliveries and label changes,
paging, filters, and 404 once the history window has expired."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from googleapiclient.errors import HttpError

from keepwarm.connectors.sandbox.google import GoogleSandbox
from tests.support.google import authorize, gmail_service
from tests.support.paths import ENRON, TAKEOUT


@pytest.fixture
def mailbox(make_sandbox: Any) -> Iterator[tuple[GoogleSandbox, Any]]:
    """A sandbox holding only the sent mail (and the Takeout mbox), with a Gmail client."""
    sandbox: GoogleSandbox = make_sandbox(ENRON / "sent", ENRON / "_sent_mail", TAKEOUT)
    gmail = gmail_service(sandbox, authorize(sandbox))
    yield sandbox, gmail
    gmail.close()


def history(gmail: Any, start: str, **query: Any) -> list[dict[str, Any]]:
    """Every page of history.list from `start`."""
    pages = []
    request = gmail.users().history().list(userId="me", startHistoryId=start, **query)
    while request is not None:
        page = request.execute()
        pages.append(page)
        request = gmail.users().history().list_next(request, page)
    return pages


def test_new_mail_and_new_labels_are_history_records(
    mailbox: tuple[GoogleSandbox, Any],
) -> None:
    sandbox, gmail = mailbox
    start = gmail.users().getProfile(userId="me").execute()["historyId"]
    assert history(gmail, start) == [{"historyId": start}]  # nothing happened yet

    added = sandbox.add_messages([ENRON / "inbox"])
    assert len(added) == 19  # 3 of the 22 files came in the Takeout mbox already
    changed = sandbox.add_messages([ENRON / "all_documents"])  # copies gain a label

    pages = history(gmail, start, historyTypes=["messageAdded"], maxResults=10)
    assert len(pages) > 1 and pages[-1]["historyId"] == str(sandbox.history_id)
    records = [record for page in pages for record in page["history"]]
    ids = [int(record["id"]) for record in records]
    assert ids == sorted(ids) and ids[0] > int(start)
    new = [record["messagesAdded"][0]["message"] for record in records]
    assert [message["id"] for message in new[: len(added)]] == added  # oldest first
    assert all(message["labelIds"] == ["INBOX"] for message in new[: len(added)])
    assert {message["id"] for message in new[len(added) :]} <= set(changed)
    assert records[0]["messages"] == [{"id": new[0]["id"], "threadId": new[0]["threadId"]}]

    inbox = history(gmail, start, labelId="INBOX", maxResults=500)[0]["history"]
    assert len(inbox) == len(added)
    labelled = history(gmail, start, historyTypes=["labelAdded"], maxResults=500)[0]["history"]
    labels = gmail.users().labels().list(userId="me").execute()["labels"]
    folder = next(label["id"] for label in labels if label["name"] == "all_documents")
    assert labelled and all(r["labelsAdded"][0]["labelIds"] == [folder] for r in labelled)
    assert {r["labelsAdded"][0]["message"]["id"] for r in labelled} <= set(changed)


def test_expired_history_gives_404_until_a_new_start(mailbox: tuple[GoogleSandbox, Any]) -> None:
    sandbox, gmail = mailbox
    start = gmail.users().getProfile(userId="me").execute()["historyId"]
    sandbox.add_messages([ENRON / "inbox"])
    sandbox.expire_history()
    for old in (start, str(int(start) + 1)):
        with pytest.raises(HttpError) as raised:
            gmail.users().history().list(userId="me", startHistoryId=old).execute()
        assert raised.value.status_code == 404
        assert raised.value.error_details[0]["reason"] == "notFound"
    with pytest.raises(HttpError) as future:  # never issued
        gmail.users().history().list(userId="me", startHistoryId="99999999").execute()
    assert future.value.status_code == 404
    fresh = gmail.users().getProfile(userId="me").execute()["historyId"]
    assert history(gmail, fresh) == [{"historyId": fresh}]
