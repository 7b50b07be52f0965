"""Gmail behind the sync seam: one stream, read back to the window, then followed by history.

The stream's first read goes over sent mail first (relationships are defined by what the owner
sends, so the queue is useful early), then the rest, then Trash (people delete what they have
answered; Spam is never read), each newest first; then it follows `history.list` from the
historyId the mailbox had when the first read began, so nothing that arrived meanwhile is
missed. The cursor says where it is: `{"phase", "page", "history"}`, opaque to services.

The window is judged by when Google received each message (`internalDate`), the order Gmail
lists by, never by the sender's `Date`: one forged or delayed `Date` must not end a phase early
(that silently lost two thirds of a mailbox once). Mail received before the window is counted
as filtered; mail deleted between listing and reading is counted as skipped; mail in Spam
(which history reports too) is filtered and never stored, and so is mail that history reports
already in Trash unless the owner sent it (a filter that deletes on arrival; the owner's own
mail deleted soon after is kept, as the backfill reads Trash for it).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime

from keepwarm.connectors.base import KnownIds, Page
from keepwarm.connectors.google.gmail import GmailReader
from keepwarm.connectors.types import MailMessage, Unreadable

__all__ = ["BEFORE_WINDOW", "GONE", "SPAM", "STREAM", "TRASH", "GmailSource"]

STREAM = "gmail"
_PHASES = ("sent", "rest", "trash", "history")
_LABEL = {"sent": "SENT", "rest": None, "trash": "TRASH"}
# Reasons a page accounts for, in the run's ledger.
BEFORE_WINDOW = "received before the sync window"
SPAM = "in Spam"
TRASH = "in Trash on arrival"
GONE = "deleted before it could be read"


@dataclass(frozen=True, slots=True)
class _Cursor:
    phase: str
    history: str
    page: str | None = None

    @classmethod
    def load(cls, text: str) -> _Cursor:
        data = json.loads(text)
        return cls(str(data["phase"]), str(data["history"]), data.get("page"))

    def dump(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


class GmailSource:
    """A Gmail mailbox as one stream of the sync seam (connectors.base.MailSource)."""

    def __init__(self, reader: GmailReader, page_size: int = 500) -> None:
        self._reader = reader
        self._page_size = page_size  # messages.list allows 1..500

    def streams(self) -> Sequence[str]:
        return [STREAM]

    def read(
        self, stream: str, cursor: str | None, *, since: datetime, known: KnownIds
    ) -> Page[MailMessage]:
        if cursor is None:
            # Incremental sync resumes from the historyId the mailbox has before we read it.
            _, history_id = self._reader.profile()
            state = _Cursor("sent", history_id)
        else:
            state = _Cursor.load(cursor)
        if state.phase == "history":
            return self._history(state, known)
        return self._backfill(state, since, known)

    def _fetch(
        self, ids: Sequence[str], known: KnownIds, ledger: Counter[str]
    ) -> list[MailMessage | Unreadable]:
        already = known(ids)
        fresh = [mid for mid in ids if mid not in already]
        records = self._reader.get_messages(fresh)
        if len(records) < len(fresh):
            ledger[GONE] += len(fresh) - len(records)
        return records

    def _backfill(self, state: _Cursor, since: datetime, known: KnownIds) -> Page[MailMessage]:
        listed = self._reader.list_page(
            label=_LABEL[state.phase], page_token=state.page, max_results=self._page_size
        )
        skipped: Counter[str] = Counter()
        filtered: Counter[str] = Counter()
        records = self._fetch([mid for mid, _ in listed.ids], known, skipped)
        received = [_received(r) for r in records if isinstance(r, MailMessage)]
        kept: list[MailMessage | Unreadable] = []
        for record in records:
            when = _received(record) if isinstance(record, MailMessage) else None
            if when is not None and when < since:
                filtered[BEFORE_WINDOW] += 1
            elif isinstance(record, MailMessage) and "SPAM" in record.labels:
                filtered[SPAM] += 1
            else:
                kept.append(record)
        # Gmail lists newest received first: a page reaching back past the window ends it.
        dated = [when for when in received if when is not None]
        finished = listed.next_page_token is None or (bool(dated) and min(dated) < since)
        if finished:
            following = _PHASES[_PHASES.index(state.phase) + 1]
            after = replace(state, phase=following, page=None)
        else:
            after = replace(state, page=listed.next_page_token)
        return Page(
            tuple(kept),
            after.dump(),
            # A finished backfill ends the run; the next one follows history from the start.
            more=after.phase != "history",
            caught_up=after.phase == "history",
            filtered=dict(filtered),
            skipped=dict(skipped),
        )

    def _history(self, state: _Cursor, known: KnownIds) -> Page[MailMessage]:
        changes = self._reader.history_page(state.history, state.page)
        skipped: Counter[str] = Counter()
        filtered: Counter[str] = Counter()
        kept: list[MailMessage | Unreadable] = []
        for record in self._fetch(list(changes.added), known, skipped):
            if isinstance(record, MailMessage) and "SPAM" in record.labels:
                filtered[SPAM] += 1
            elif isinstance(record, MailMessage) and _trashed_on_arrival(record):
                filtered[TRASH] += 1
            else:
                kept.append(record)
        if changes.next_page_token is not None:
            after = replace(state, page=changes.next_page_token)
        else:
            after = _Cursor("history", changes.history_id)
        return Page(
            tuple(kept),
            after.dump(),
            more=changes.next_page_token is not None,
            caught_up=True,
            filtered=dict(filtered),
            skipped=dict(skipped),
        )


def _received(record: MailMessage) -> datetime | None:
    # internalDate is always there from Gmail; the sender's Date only if it is somehow not.
    return record.received_at or record.sent_at


def _trashed_on_arrival(record: MailMessage) -> bool:
    # Only SENT is the owner's own act; anything else in Trash is what a rule threw away.
    return "TRASH" in record.labels and "SENT" not in record.labels
