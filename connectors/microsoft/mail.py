"""Outlook mail through Graph's per-folder message delta, as streams of the sync seam.

Delta is a per-folder operation, so every folder that holds the owner's correspondence is a
stream of its own: Sent Items first (what the owner sent defines relationships), then the
Inbox and its subfolders, the Archive, and the owner's own folders; never Junk Email, Deleted
Items (nor what is filed under them), Drafts, the Outbox or Conversation History. A stream's
first round reads the folder newest first; its cursor is the nextLink of the page after, then
the deltaLink that brings the folder's changes ever after. A 410 (SyncStateNotFound) raises
CursorExpired, and services reads that folder again from the start, alone.

No `$filter` narrows the first round to the sync window: Graph then stops at 5,000 messages
(delta-query-messages), so older mail is read and counted as outside the window instead.

While services stores a page, the next page of the round is already being fetched (one
request ahead, never more: the mailbox's limit of 4 at once is shared with everyone else), so
a first sync runs at the pace of the slower of Graph and the database, not of both added up.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from keepwarm.connectors.base import KnownIds, Page
from keepwarm.connectors.errors import PermanentProviderError
from keepwarm.connectors.microsoft.graph import GraphClient
from keepwarm.connectors.microsoft.translate import MESSAGE_FIELDS, to_mail_message
from keepwarm.connectors.types import MailMessage, Unreadable

__all__ = ["PAGE_SIZE", "GraphMailSource", "MailFolder"]

# Messages per delta page (Prefer: odata.maxpagesize): one page is one transaction in services.
PAGE_SIZE = 250
# Well-known folders: read in this order, first of all; the rest are never read.
_FIRST = ("sentitems", "inbox", "archive")
_NEVER = ("junkemail", "deleteditems", "drafts", "outbox", "conversationhistory")
_BEFORE = "received before the sync window"  # the wording of every source


@dataclass(frozen=True, slots=True)
class MailFolder:
    """A folder to read: its stream name, Graph id and display path."""

    stream: str
    id: str
    path: str


class GraphMailSource:
    """A mailbox as streams, one per folder (connectors.base.MailSource)."""

    def __init__(
        self, graph: GraphClient, *, page_size: int = PAGE_SIZE, read_ahead: bool = True
    ) -> None:
        self._graph = graph
        self._page_size = page_size
        self._folders: dict[str, MailFolder] | None = None
        self._pool = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="graph-read-ahead")
            if read_ahead
            else None
        )
        self._ahead: tuple[str, str, Future[dict[str, Any]]] | None = None

    def close(self) -> None:
        """Wait for a page being fetched ahead (at most one request), and stop."""
        self._ahead = None
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def streams(self) -> Sequence[str]:
        """Sent Items, Inbox (and its subfolders), Archive, then the owner's folders."""
        return list(self.folders())

    def folders(self) -> dict[str, MailFolder]:
        """The folders to read by stream name, in reading order (looked up once)."""
        if self._folders is None:
            self._folders = self._discover()
        return self._folders

    def read(
        self, stream: str, cursor: str | None, *, since: datetime, known: KnownIds
    ) -> Page[MailMessage]:
        """One delta page of the folder `stream`. Raises CursorExpired for a link Graph no
        longer knows, and the other ProviderErrors of GraphClient."""
        folder = self.folders().get(stream)
        state: dict[str, Any] = json.loads(cursor) if cursor else {}
        prefer = f"odata.maxpagesize={self._page_size}"
        if folder is None and not state:
            raise PermanentProviderError(f"{stream}: no such mail folder")
        if state.get("link"):
            body = self._fetched(stream, state["link"], prefer)
        else:
            assert folder is not None
            body = self._graph.get(
                f"/me/mailFolders/{folder.id}/messages/delta",
                params={
                    "$select": ",".join(MESSAGE_FIELDS),
                    "$orderby": "receivedDateTime desc",
                },
                prefer=prefer,
            )
        path = folder.path if folder else str(state.get("path") or stream)
        records, filtered = self._records(body.get("value", []), stream, path, since, known)
        next_link = body.get("@odata.nextLink")
        caught_up = bool(state.get("caught_up")) or next_link is None
        link = next_link or body.get("@odata.deltaLink")
        if not link:
            raise PermanentProviderError(f"{stream}: Graph gave neither nextLink nor deltaLink")
        after = json.dumps({"link": link, "caught_up": caught_up, "path": path})
        if next_link is not None and self._pool is not None:
            future = self._pool.submit(self._graph.get, next_link, prefer=prefer, cursor=True)
            self._ahead = (stream, next_link, future)
        return Page(tuple(records), after, next_link is not None, caught_up, filtered)

    def _fetched(self, stream: str, link: str, prefer: str) -> dict[str, Any]:
        """The page at `link`: the one fetched ahead when it is that one (its failure raised
        here, as if fetched now), else fetched now."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None and ahead[:2] == (stream, link):
            return ahead[2].result()
        return self._graph.get(link, prefer=prefer, cursor=True)

    def _records(
        self,
        items: list[dict[str, Any]],
        stream: str,
        path: str,
        since: datetime,
        known: KnownIds,
    ) -> tuple[list[MailMessage | Unreadable], dict[str, int]]:
        filtered: dict[str, int] = {}
        records: list[MailMessage | Unreadable] = []
        for item in items:
            if "@removed" in item:
                continue  # deleted or moved away: what was read stays, as for any mailbox
            if item.get("isDraft"):
                filtered["draft"] = filtered.get("draft", 0) + 1
                continue
            record = to_mail_message(
                item,
                source=f"graph:{stream}:{item.get('id')}",
                folder=path,
                sent_folder=stream == "sentitems",
            )
            if isinstance(record, MailMessage):
                when = record.received_at or record.sent_at
                if when is not None and when < since:
                    filtered[_BEFORE] = filtered.get(_BEFORE, 0) + 1
                    continue
            records.append(record)
        ids = [r.provider_id for r in records if isinstance(r, MailMessage) and r.provider_id]
        already = known(ids) if ids else set()
        # The same message seen in another folder, or moved here from one: stored already.
        records = [
            r for r in records if not (isinstance(r, MailMessage) and r.provider_id in already)
        ]
        return records, filtered

    def _discover(self) -> dict[str, MailFolder]:
        """The folders to read, from one batch of well-known lookups and the folder tree."""
        names = (*_FIRST, *_NEVER)
        answers = self._graph.batch(
            [
                {"id": name, "method": "GET", "url": f"/me/mailFolders/{name}?$select=id"}
                for name in names
            ]
        )
        known = {
            name: str(body["id"])
            for name, (status, body) in answers.items()
            if status == 200 and isinstance(body, dict) and body.get("id")
        }
        skip = {known[name] for name in _NEVER if name in known}
        first = {known[name]: name for name in _FIRST if name in known}
        found: dict[str, MailFolder] = {}
        own: list[tuple[str | None, MailFolder]] = []  # (the well-known folder above, folder)

        def walk(parent: str | None, prefix: str, group: str | None) -> None:
            url = f"/me/mailFolders/{parent}/childFolders" if parent else "/me/mailFolders"
            params: dict[str, str] | None = {
                "$select": "id,displayName,childFolderCount",
                "$top": "100",
            }
            while url:
                body = self._graph.get(url, params=params)
                params = None  # a nextLink carries them
                for entry in body.get("value", []):
                    folder_id = str(entry["id"])
                    if folder_id in skip:
                        continue
                    path = f"{prefix}{entry.get('displayName') or folder_id}"
                    well_known = first.get(folder_id)
                    folder = MailFolder(well_known or f"folder:{folder_id}", folder_id, path)
                    if well_known is not None:
                        found[well_known] = folder
                    else:
                        own.append((group, folder))
                    if int(entry.get("childFolderCount") or 0) > 0:
                        walk(folder_id, path + "/", well_known or group)
                url = body.get("@odata.nextLink") or ""

        walk(None, "", None)
        ordered: dict[str, MailFolder] = {}
        for name in _FIRST:
            if name in found:
                ordered[name] = found[name]
            ordered.update((f.stream, f) for group, f in own if group == name)
        ordered.update((f.stream, f) for group, f in own if group is None)
        return ordered
