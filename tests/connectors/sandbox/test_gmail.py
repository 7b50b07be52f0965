"""Gmail v1 through googleapiclient against the sandbox seeded with real mail: paging, metadata
headers, threads, labels, batches, history and the metadata scope's limits."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest

from keepwarm.connectors.sandbox.google import GoogleSandbox
from tests.support.google import AUTH, authorize, gmail_by_endpoint, gmail_service, raw_get
from tests.support.paths import ENRON, TAKEOUT
from tests.support.paths import SANDBOX_OWNER as OWNER

HEADERS = ["From", "To", "Cc", "Date", "Subject", "Message-ID", "In-Reply-To", "References"]


def _all_ids(gmail: Any, **query: Any) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    request = gmail.users().messages().list(userId="me", **query)
    while request is not None:
        page = request.execute()
        found.extend(page.get("messages", []))
        request = gmail.users().messages().list_next(request, page)
    return found


def test_profile_and_owner_inferred_from_sent_mail(sandbox: GoogleSandbox, gmail: Any) -> None:
    assert sandbox.user_email == OWNER
    profile = gmail.users().getProfile(userId="me").execute()
    assert profile["emailAddress"] == OWNER
    assert isinstance(profile["historyId"], str) and profile["historyId"].isdigit()
    # 242 Enron files hold 90 distinct messages; the Takeout mbox adds 2 not in the slice.
    assert profile["messagesTotal"] == 92
    assert gmail.users().getProfile(userId=OWNER).execute() == profile
    with pytest.raises(HttpError) as raised:
        gmail.users().getProfile(userId="someone.else@enron.com").execute()
    assert raised.value.status_code == 403


def test_sent_paging_newest_first_without_duplicates(gmail: Any) -> None:
    pages = []
    request = gmail.users().messages().list(userId="me", labelIds=["SENT"], maxResults=7)
    while request is not None:
        page = request.execute()
        pages.append(page)
        request = gmail.users().messages().list_next(request, page)
    ids = [m["id"] for page in pages for m in page["messages"]]
    assert len(pages) > 5 and all(len(p["messages"]) <= 7 for p in pages)
    assert "nextPageToken" not in pages[-1]
    assert len(ids) == len(set(ids)) == pages[0]["resultSizeEstimate"]
    assert all(len(i) == 16 and int(i, 16) >= 0 for i in ids)
    dates = [
        int(
            gmail.users()
            .messages()
            .get(userId="me", id=i, format="minimal")
            .execute()["internalDate"]
        )
        for i in ids[:10]
    ]
    assert dates == sorted(dates, reverse=True)
    # A label filter nobody matches: Gmail leaves "messages" out altogether.
    empty = gmail.users().messages().list(userId="me", labelIds=["CHAT"]).execute()
    assert empty == {"resultSizeEstimate": 0}


def _get(gmail: Any, message_id: str, headers: list[str] | None = None) -> Any:
    request = (
        gmail.users()
        .messages()
        .get(userId="me", id=message_id, format="metadata", metadataHeaders=headers or [])
    )
    return request.execute()


def _subject(message: Any) -> str:
    return next(h["value"] for h in message["payload"]["headers"] if h["name"] == "Subject")


def test_metadata_get_returns_the_raw_headers_asked_for(gmail: Any) -> None:
    ids = [m["id"] for m in _all_ids(gmail, labelIds=["SENT"])]
    found = [_get(gmail, i, ["subject", "FROM", "X-Folder"]) for i in ids]
    # sent/121_: its Subject is folded over two lines in the file.
    message = next(m for m in found if _subject(m).startswith("Enron North America to Enron"))
    # Only the asked-for headers, as written (unfolded), in message order; no body or snippet.
    assert message["payload"]["headers"] == [
        {"name": "From", "value": "david.delainey@enron.com"},
        {
            "name": "Subject",
            "value": "Enron North America to Enron Americas--Redefinition of Technical Role?",
        },
        # The copy kept is the first the walk meets: _sent_mail/ comes before sent/.
        {"name": "X-Folder", "value": "\\David_Delainey_Dec2000\\Notes Folders\\'sent mail"},
    ]
    assert message["snippet"] == ""
    assert set(message["payload"]) == {"partId", "mimeType", "filename", "headers"}
    assert message["payload"]["mimeType"] == "text/plain"
    assert message["internalDate"] == "973860540000"  # Fri, 10 Nov 2000 04:49:00 -0800
    assert isinstance(message["historyId"], str) and message["sizeEstimate"] > 100
    # The same mail filed in sent/, _sent_mail/, all_documents/ and discussion_threads/ is
    # one message with the union of their labels.
    assert set(message["labelIds"]) == {"SENT", "Label_1", "Label_2"}
    # No metadataHeaders: every header line, in file order.
    names = [h["name"] for h in _get(gmail, message["id"])["payload"]["headers"]]
    assert names[:5] == ["Message-ID", "Date", "From", "To", "Subject"]
    assert names[-1] == "X-FileName" and len(names) == 15
    # The Takeout copy of "Wind Dash" says Sent,Important.
    wind = next(m for m in found if _subject(m) == "Wind Dash")
    assert set(wind["labelIds"]) == {"SENT", "IMPORTANT"}


def test_enron_folders_and_takeout_labels_map_to_gmail_labels(gmail: Any) -> None:
    listed = gmail.users().labels().list(userId="me").execute()["labels"]
    labels = {label["id"]: label for label in listed}
    assert {"INBOX", "SENT", "TRASH", "SPAM", "UNREAD", "IMPORTANT", "CATEGORY_UPDATES"} <= set(
        labels
    )
    user_labels = {label["name"] for label in listed if label["type"] == "user"}
    assert {"all_documents", "discussion_threads", "Projects, 2002"} <= user_labels
    trash = _all_ids(gmail, labelIds=["TRASH"])
    assert len(trash) == 9 and _all_ids(gmail, labelIds=["TRASH"], includeSpamTrash=False) == trash
    everything = _all_ids(gmail)
    with_trash = _all_ids(gmail, includeSpamTrash=True)
    assert len(with_trash) == 92 and len(everything) == 92 - 9  # trash hidden by default
    updates = _all_ids(gmail, labelIds=["CATEGORY_UPDATES"])
    assert len(updates) == 1
    assert len(_all_ids(gmail, labelIds=["INBOX", "IMPORTANT"])) == 1  # all labels must match


def test_threads_group_replies_and_use_takeout_thread_ids(gmail: Any) -> None:
    ids = _all_ids(gmail, includeSpamTrash=True)
    threads = Counter(m["threadId"] for m in ids)
    assert len(threads) < len(ids)
    thread_id, size = threads.most_common(1)[0]
    thread = (
        gmail.users()
        .threads()
        .get(userId="me", id=thread_id, format="metadata", metadataHeaders=["Subject"])
        .execute()
    )
    assert len(thread["messages"]) == size and thread["id"] == thread_id
    # Gmail's thread id is the id of the thread's first message; messages come oldest first.
    assert thread["messages"][0]["id"] == thread_id
    dates = [int(m["internalDate"]) for m in thread["messages"]]
    assert dates == sorted(dates)
    subjects = {
        h["value"].lower().removeprefix("re: ").removeprefix("fw: ")
        for m in thread["messages"]
        for h in m["payload"]["headers"]
    }
    assert len(subjects) == 1
    # Takeout's X-GM-THRID 1650000000000000000 (decimal) is Gmail's thread id in hex; the
    # Enron reply with the same subject joins it.
    assert threads[format(1650000000000000000, "x")] == 2


def test_thread_get_returns_spam_and_trash_too_and_has_no_raw_format(
    make_sandbox: Any, tmp_path: Path
) -> None:
    mbox = tmp_path / "thread.mbox"
    mbox.write_text(
        "".join(
            f"From 1@xxx Thu Jan 01 00:00:00 +0000 2001\nX-GM-THRID: 1650000000000000100\n"
            f"X-Gmail-Labels: {labels}\nMessage-ID: <t{n}@example.com>\n"
            f"Date: Mon, {n} Jan 2001 10:00:00 +0000\nFrom: {sender}\nTo: {to}\n"
            f"Subject: Re: plan\n\nbody\n\n"
            for n, labels, sender, to in [
                (1, "Sent", "ann@example.com", "bo@example.com"),
                (2, "Trash", "bo@example.com", "ann@example.com"),
                (3, "Spam", "bo@example.com", "ann@example.com"),
            ]
        )
    )
    sandbox: GoogleSandbox = make_sandbox(mbox, user_email="ann@example.com")
    creds = authorize(sandbox)
    gmail = gmail_service(sandbox, creds)
    try:
        [listed] = _all_ids(gmail)  # listing hides Spam and Trash ...
        thread = (
            gmail.users()
            .threads()
            .get(userId="me", id=listed["threadId"], format="metadata", metadataHeaders=["From"])
            .execute()
        )
        # ... threads.get does not: a client must filter what it did not ask for
        labels = [m["labelIds"] for m in thread["messages"]]
        assert labels == [["SENT"], ["TRASH"], ["SPAM"]]
        units = sandbox.units_spent()
        # threads.get's format has no `raw` (the client library refuses it before sending)
        path = f"/gmail/v1/users/me/threads/{listed['threadId']}?format=raw"
        status, _, body = raw_get(sandbox, path, creds.token)
        assert status == 400 and "format" in body["error"]["message"]
        assert sandbox.units_spent() == units
        # In a batch, a threads.get costs its 10 units beside the messages.get's 5
        batch = gmail.new_batch_http_request()
        batch.add(gmail.users().threads().get(userId="me", id=listed["threadId"], format="minimal"))
        batch.add(gmail.users().messages().get(userId="me", id=listed["id"], format="minimal"))
        batch.execute()
        assert sandbox.units_spent() - units == 10 + 5
    finally:
        gmail.close()


def test_a_folded_content_id_is_unfolded_as_google_does(sandbox: GoogleSandbox, gmail: Any) -> None:
    # The client's MIME generator folds a Content-ID longer than 78 characters onto two
    # lines; the answer must carry it whole or the client cannot match it to its request.
    [message] = gmail.users().messages().list(userId="me", maxResults=1).execute()["messages"]
    long_id = "a-request-id-long-enough-to-fold-" + message["id"]
    answers: dict[str, Any] = {}
    batch = gmail.new_batch_http_request(
        callback=lambda request_id, response, error: answers.__setitem__(request_id, error)
    )
    batch.add(
        gmail.users().messages().get(userId="me", id=message["id"], format="minimal"),
        request_id=long_id,
    )
    batch.execute()
    assert answers == {long_id: None}


def test_batch_of_metadata_gets_hits_the_per_api_batch_path(
    sandbox: GoogleSandbox, gmail: Any
) -> None:
    ids = [m["id"] for m in _all_ids(gmail, labelIds=["SENT"])][:40]
    results: dict[str, Any] = {}

    def collect(request_id: str, response: Any, error: Exception | None) -> None:
        assert error is None, error
        results[request_id] = response

    batch = gmail.new_batch_http_request(callback=collect)
    for message_id in ids:
        batch.add(
            gmail.users()
            .messages()
            .get(userId="me", id=message_id, format="metadata", metadataHeaders=HEADERS),
            request_id=message_id,
        )
    units = sandbox.units_spent()
    batch.execute()
    assert set(results) == set(ids)
    assert all(results[i]["id"] == i and results[i]["payload"]["headers"] for i in ids)
    assert sandbox.requests()[-1] == "POST /batch/gmail/v1"
    assert sandbox.units_spent() - units == 5 * len(ids)  # a batch costs its inner calls


def test_default_batch_path_and_client_options_endpoint(sandbox: GoogleSandbox, creds: Any) -> None:
    # build() with api_endpoint is how production code builds the service; its own batches
    # would go to Google (the library ignores api_endpoint there), so name the batch URI.
    gmail = gmail_by_endpoint(sandbox, creds)
    try:
        listed = gmail.users().messages().list(userId="me", maxResults=3).execute()
        answers: list[Any] = []
        batch = BatchHttpRequest(
            callback=lambda _i, r, e: answers.append((r, e)), batch_uri=sandbox.url + "/batch"
        )
        for message in listed["messages"]:
            batch.add(gmail.users().messages().get(userId="me", id=message["id"], format="minimal"))
        batch.execute(http=gmail._http)
    finally:
        gmail.close()
    assert [e for _, e in answers] == [None, None, None]
    assert "POST /batch" in sandbox.requests()


def test_batch_over_100_calls_is_refused(sandbox: GoogleSandbox, gmail: Any) -> None:
    batch = gmail.new_batch_http_request()
    batch._batch_uri = sandbox.url + "/batch/gmail/v1"
    for _ in range(101):
        batch.add(gmail.users().getProfile(userId="me"))
    with pytest.raises(HttpError) as raised:
        batch.execute()
    assert raised.value.status_code == 400
    assert "Received: 101, Limit: 100" in str(raised.value)


def _first_id(gmail: Any) -> str:
    return str(
        gmail.users().messages().list(userId="me", maxResults=1).execute()["messages"][0]["id"]
    )


def test_metadata_scope_refuses_search_and_bodies(gmail: Any) -> None:
    message_id = _first_id(gmail)
    for call in (
        gmail.users().messages().list(userId="me", q="from:someone"),
        gmail.users().messages().get(userId="me", id=message_id),  # format defaults to full
        gmail.users().messages().get(userId="me", id=message_id, format="raw"),
    ):
        with pytest.raises(HttpError) as raised:
            call.execute()
        assert raised.value.status_code == 403
        assert raised.value.error_details[0]["reason"] == "forbidden"
    with pytest.raises(HttpError, match="Metadata scope doesn't allow format FULL"):
        gmail.users().messages().get(userId="me", id=message_id, format="full").execute()
    with pytest.raises(HttpError) as missing:
        gmail.users().messages().get(userId="me", id="0123456789abcdef").execute()
    assert missing.value.status_code in (403, 404)


def test_readonly_scope_has_no_metadata_limits_but_still_no_bodies(sandbox: GoogleSandbox) -> None:
    gmail = gmail_service(sandbox, authorize(sandbox, [AUTH + "gmail.readonly"]))
    try:
        message_id = _first_id(gmail)
        with pytest.raises(HttpError) as raised:
            gmail.users().messages().get(userId="me", id=message_id, format="full").execute()
        assert raised.value.status_code == 400  # the sandbox keeps no bodies to give
        with pytest.raises(HttpError) as missing:
            gmail.users().messages().get(
                userId="me", id="0123456789abcdef", format="minimal"
            ).execute()
        assert missing.value.status_code == 404
    finally:
        gmail.close()


def test_calendar_only_token_cannot_read_mail(sandbox: GoogleSandbox) -> None:
    gmail = gmail_service(sandbox, authorize(sandbox, [AUTH + "calendar.readonly"]))
    try:
        with pytest.raises(HttpError) as raised:
            gmail.users().getProfile(userId="me").execute()
    finally:
        gmail.close()
    assert raised.value.status_code == 403
    assert raised.value.error_details[0]["reason"] == "insufficientPermissions"


def test_user_email_given_or_from_seeds(make_sandbox: Any) -> None:
    assert make_sandbox(ENRON / "inbox", user_email="Me@Example.com").user_email == "me@example.com"
    with pytest.raises(ValueError, match="pass user_email"):
        GoogleSandbox([ENRON / "inbox"])
    # The Takeout mbox has one sent message from each of his two addresses: the first wins.
    assert make_sandbox(Path(TAKEOUT)).user_email == "w..delainey@enron.com"
