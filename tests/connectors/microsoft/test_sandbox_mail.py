"""Graph mail in the sandbox: /me, folders and child folders, per-folder message delta with
$select, page sizes, order and filter, and changes between rounds (new mail, moves with new
ids, deletions, updates); expired delta tokens; Mail.ReadBasic never shows a body."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from keepwarm.connectors.sandbox.microsoft import MicrosoftSandbox
from tests.support.microsoft import consent, graph, read_round
from tests.support.paths import ENRON
from tests.support.paths import SANDBOX_OWNER as OWNER

SELECT = "from,sender,toRecipients,ccRecipients,subject,internetMessageId,receivedDateTime"
_DELEGATED = """\
Message-ID: <delegated-1@example.com>
Date: Mon, 14 May 2001 16:39:00 -0700 (PDT)
From: david.delainey@enron.com
Sender: kay.chapman@enron.com
To: john.lavorato@enron.com
Subject: Board dinner

Sent for Dave.
"""


@pytest.fixture
def client(ms: MicrosoftSandbox) -> Iterator[httpx.Client]:
    _, result = consent(ms)
    with graph(ms, result["access_token"]) as client:
        yield client


def _delta(folder: str, query: str = "") -> str:
    return f"/me/mailFolders/{folder}/messages/delta" + (f"?{query}" if query else "")


def test_me_and_the_folders(ms: MicrosoftSandbox, client: httpx.Client) -> None:
    me = client.get("/me").json()
    assert me["mail"] == OWNER and me["userPrincipalName"] == OWNER and me["id"]
    assert client.get("/me?$select=mail").json().keys() == {"@odata.context", "id", "mail"}
    first = client.get("/me/mailFolders?$top=5").json()
    assert [f["displayName"] for f in first["value"]] == [
        "Inbox",
        "Drafts",
        "Sent Items",
        "Deleted Items",
        "Junk Email",
    ]
    rest = client.get(first["@odata.nextLink"]).json()
    names = [f["displayName"] for f in rest["value"]]
    assert names[:3] == ["Archive", "Outbox", "Conversation History"]
    assert set(names[3:]) == {"all_documents", "discussion_threads"}
    assert "@odata.nextLink" not in rest
    sent = client.get("/me/mailFolders/sentitems").json()
    assert sent["displayName"] == "Sent Items" and sent["totalItemCount"] == 101
    assert client.get(f"/me/mailFolders('{sent['id']}')").json()["id"] == sent["id"]
    assert client.get(f"/users/{OWNER}/mailFolders/inbox").json()["displayName"] == "Inbox"
    other = client.get("/users/someone@else.com/mailFolders")
    assert other.status_code == 404 and other.json()["error"]["code"] == "ErrorInvalidUser"
    assert client.get("/me/mailFolders/nope").json()["error"]["code"] == "ErrorItemNotFound"


def test_child_folders_hold_nested_seed_folders(
    make_ms: Callable[..., MicrosoftSandbox], tmp_path: Path
) -> None:
    tree = tmp_path / "delainey"
    shutil.copytree(ENRON / "sent_items", tree / "sent_items")
    nested = tree / "inbox" / "projects"
    nested.mkdir(parents=True)
    for source in sorted((ENRON / "inbox").iterdir())[:3]:
        shutil.copy(source, nested / source.name)
    sandbox = make_ms(tree)
    _, result = consent(sandbox)
    with graph(sandbox, result["access_token"]) as client:
        inbox = client.get("/me/mailFolders/inbox").json()
        assert inbox["childFolderCount"] == 1 and inbox["totalItemCount"] == 0
        (child,) = client.get("/me/mailFolders/inbox/childFolders").json()["value"]
        assert child["displayName"] == "projects" and child["parentFolderId"] == inbox["id"]
        entries, _, _ = read_round(client, _delta(child["id"]))
    assert len(entries) == 3


def test_delta_honours_select_and_page_size(ms: MicrosoftSandbox, client: httpx.Client) -> None:
    entries, delta_link, pages = read_round(
        client, _delta("sentitems", f"$select={SELECT}"), page_size=30
    )
    assert len(entries) == 101 and pages == 4
    assert len({e["id"] for e in entries}) == 101
    for entry in entries:
        assert set(entry) == {"@odata.type", "@odata.etag", "id", *SELECT.split(",")}
        assert entry["from"]["emailAddress"]["address"]
    assert "$deltatoken=" in delta_link and delta_link.startswith(
        ms.graph_url + "/me/mailfolders('"
    )
    # Nothing changed: the next round is empty. Without Prefer, pages hold 10.
    assert read_round(client, delta_link)[0] == []
    _, _, default_pages = read_round(client, _delta("inbox"))
    assert default_pages == 3  # 28 messages


def test_newest_first_and_filtered_rounds(client: httpx.Client) -> None:
    newest, _, _ = read_round(
        client, _delta("sentitems", "$select=receivedDateTime&$orderby=receivedDateTime desc")
    )
    times = [e["receivedDateTime"] for e in newest]
    assert times == sorted(times, reverse=True)
    since = "2001-06-01T00:00:00Z"
    recent, _link, _ = read_round(
        client, _delta("sentitems", f"$select=receivedDateTime&$filter=receivedDateTime ge {since}")
    )
    assert recent and all(e["receivedDateTime"] >= since for e in recent)
    assert len(recent) == sum(1 for t in times if t >= since)
    assert client.get(_delta("inbox", "$orderby=subject")).status_code == 400
    assert client.get(_delta("inbox", "$filter=subject eq 'x'")).status_code == 400
    bad = client.get(_delta("inbox", "$select=nonsense"))
    assert bad.status_code == 400 and "nonsense" in bad.json()["error"]["message"]


def test_mail_readbasic_never_returns_a_body(ms: MicrosoftSandbox, client: httpx.Client) -> None:
    entries, _, _ = read_round(client, _delta("inbox"))
    assert entries and all("body" not in e and "bodyPreview" not in e for e in entries)
    assert {"from", "sender", "inferenceClassification", "conversationId"} <= set(entries[0])
    selected = read_round(client, _delta("inbox", "$select=subject,body"))[0]
    assert all("body" not in e for e in selected)


def test_changes_between_rounds_new_moved_deleted_updated(
    ms: MicrosoftSandbox, client: httpx.Client
) -> None:
    _, inbox_link, _ = read_round(client, _delta("inbox", f"$select={SELECT}"))
    _, archive_link, _ = read_round(client, _delta("archive", f"$select={SELECT}"))
    inbox_ids = ms.message_ids("inbox")
    moved, deleted, read = inbox_ids[0], inbox_ids[1], inbox_ids[2]
    new_id = ms.move_message(moved, "archive")
    assert new_id != moved
    ms.delete_message(deleted)
    ms.mark_read(read)
    newcomer = sorted((ENRON / "all_documents").iterdir())[0]
    (arrived,) = ms.add_messages([newcomer], folder="inbox")
    assert ms.add_messages([newcomer], folder="inbox") == []  # already filed there
    changes, inbox_link, _ = read_round(client, inbox_link)
    removed = {e["id"] for e in changes if "@removed" in e}
    assert removed == {moved, deleted}
    assert all(e["@removed"] == {"reason": "deleted"} for e in changes if "@removed" in e)
    assert {e["id"] for e in changes if "@removed" not in e} == {read, arrived}
    archived, _, _ = read_round(client, archive_link)
    (entry,) = archived
    assert entry["id"] == new_id
    # A move keeps the message: the same internetMessageId under the new id.
    assert entry["internetMessageId"].startswith("<") and entry["internetMessageId"].endswith(">")
    assert read_round(client, inbox_link)[0] == []


def test_expired_delta_token_is_410_sync_state_not_found(
    ms: MicrosoftSandbox, client: httpx.Client
) -> None:
    _, link, _ = read_round(client, _delta("inbox"))
    _, sent_link, _ = read_round(client, _delta("sentitems"))
    first_page = client.get(_delta("deleteditems"), headers={"Prefer": "odata.maxpagesize=2"})
    skip_link = first_page.json()["@odata.nextLink"]
    ms.expire_delta_tokens("inbox")
    gone = client.get(link)
    assert gone.status_code == 410
    error = gone.json()["error"]
    assert error["code"] == "SyncStateNotFound"
    assert error["message"].startswith("The sync state generation is not found; generation=")
    assert gone.headers["location"].endswith("/messages/delta")
    assert client.get(sent_link).status_code == 200  # other folders keep their tokens
    ms.expire_delta_tokens()
    assert client.get(skip_link).status_code == 410
    assert client.get(sent_link).status_code == 410
    assert read_round(client, _delta("inbox"))[0]  # starting over works


def test_a_delegate_sends_from_the_owner(
    make_ms: Callable[..., MicrosoftSandbox], tmp_path: Path
) -> None:
    mail = tmp_path / "delegated" / "sent_items"
    mail.mkdir(parents=True)
    (mail / "1").write_text(_DELEGATED)
    shutil.copy(next((ENRON / "sent_items").iterdir()), mail / "2")
    sandbox = make_ms(tmp_path / "delegated", user_email=OWNER)
    _, result = consent(sandbox)
    with graph(sandbox, result["access_token"]) as client:
        entries, _, _ = read_round(client, _delta("sentitems", "$select=from,sender,sentDateTime"))
    delegated = next(e for e in entries if e["sender"] != e["from"])
    assert delegated["from"]["emailAddress"]["address"] == OWNER
    assert delegated["sender"]["emailAddress"]["address"] == "kay.chapman@enron.com"
    assert delegated["sentDateTime"] == "2001-05-14T23:39:00Z"
    assert datetime.fromisoformat(delegated["sentDateTime"].replace("Z", "+00:00"))


def test_single_message_get(ms: MicrosoftSandbox, client: httpx.Client) -> None:
    message_id = ms.message_ids("sentitems")[0]
    got = client.get(f"/me/messages/{message_id}?$select=subject,parentFolderId").json()
    assert got["id"] == message_id and got["parentFolderId"] == ms.folder_id("sentitems")
    assert client.get("/me/messages/AAMkADnope").status_code == 404
