"""In-memory mail and calendar sources: real implementations of the sync seam, no HTTP.

Services tests drive sync through these as they would drive Gmail or Graph: streams, pages,
opaque cursors, new records arriving between runs, and cursors the "provider" forgets. They are
not mocks of our code: they follow the same contract (`connectors.base`) as every connector,
which tests/connectors/test_source_contract.py checks for each implementation.

A stream's cursor is `{"at": n, "era": e}`: the first `n` records of the stream were delivered
while the stream's history was era `e`. `expire(stream)` starts a new era, so an older cursor
raises CursorExpired, as a Gmail historyId or a Graph delta link does once the provider has
forgotten it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from keepwarm.connectors.base import KnownIds, Page
from keepwarm.connectors.errors import CursorExpired, ProviderError
from keepwarm.connectors.types import CalendarEvent, MailMessage, Unreadable

__all__ = ["MemoryCalendarSource", "MemoryMailSource"]


class _Streams:
    def __init__(self, page_size: int) -> None:
        self.page_size = page_size
        self.records: dict[str, list[object]] = {}
        self.era: dict[str, int] = {}
        self.failures: list[ProviderError] = []
        self.reads = 0

    def add(self, stream: str, records: Sequence[object]) -> None:
        self.records.setdefault(stream, []).extend(records)
        self.era.setdefault(stream, 0)

    def page(self, stream: str, cursor: str | None) -> tuple[list[object], str, bool]:
        self.reads += 1
        if self.failures:
            raise self.failures.pop(0)
        era = self.era.get(stream, 0)
        at = 0
        if cursor is not None:
            state = json.loads(cursor)
            if state["era"] != era:
                raise CursorExpired(f"{stream}: the cursor is from a forgotten history")
            at = int(state["at"])
        records = self.records.get(stream, [])
        chunk = records[at : at + self.page_size]
        after = at + len(chunk)
        return chunk, json.dumps({"at": after, "era": era}), after < len(records)


class _MemorySource:
    """What both in-memory sources share: streams of records, eras, queued failures."""

    def __init__(self, streams: Sequence[str], page_size: int) -> None:
        self._order = list(streams)
        self._streams = _Streams(page_size)
        for stream in streams:
            self._streams.add(stream, [])

    @property
    def reads(self) -> int:
        """How many pages were asked for (including failed asks)."""
        return self._streams.reads

    def add(self, stream: str, records: Sequence[object]) -> None:
        """Append records to `stream` (a new stream comes last in the order)."""
        if stream not in self._order:
            self._order.append(stream)
        self._streams.add(stream, records)

    def expire(self, stream: str) -> None:
        """Forget the stream's history: every cursor issued so far raises CursorExpired."""
        self._streams.era[stream] = self._streams.era.get(stream, 0) + 1

    def fail(self, *errors: ProviderError) -> None:
        """Make the next reads raise these errors, one each."""
        self._streams.failures.extend(errors)

    def streams(self) -> Sequence[str]:
        return list(self._order)


class MemoryMailSource(_MemorySource):
    """A mailbox held in memory. Records received (or, failing that, sent) before `since`
    are filtered, as a provider's sync window leaves them out; ids already stored are not
    delivered again."""

    def __init__(self, streams: Sequence[str] = ("mail",), page_size: int = 50) -> None:
        super().__init__(streams, page_size)

    def read(
        self, stream: str, cursor: str | None, *, since: datetime, known: KnownIds
    ) -> Page[MailMessage]:
        chunk, after, more = self._streams.page(stream, cursor)
        ids = [r.provider_id for r in chunk if isinstance(r, MailMessage) and r.provider_id]
        already = known(ids)
        records: list[MailMessage | Unreadable] = []
        before_window = 0
        for record in chunk:
            if isinstance(record, MailMessage):
                if record.provider_id in already:
                    continue
                when = record.received_at or record.sent_at
                if when is not None and when < since:
                    before_window += 1
                    continue
                records.append(record)
            elif isinstance(record, Unreadable):
                records.append(record)
        filtered = {"before the sync window": before_window} if before_window else {}
        return Page(tuple(records), after, more, caught_up=not more, filtered=filtered)


class MemoryCalendarSource(_MemorySource):
    """Calendars held in memory; occurrences that ended before `since` are left out."""

    def __init__(self, streams: Sequence[str] = ("primary",), page_size: int = 50) -> None:
        super().__init__(streams, page_size)

    def read(self, stream: str, cursor: str | None, *, since: datetime) -> Page[CalendarEvent]:
        chunk, after, more = self._streams.page(stream, cursor)
        records: list[CalendarEvent | Unreadable] = []
        for record in chunk:
            if isinstance(record, CalendarEvent) and record.end < since:
                continue
            if isinstance(record, (CalendarEvent, Unreadable)):
                records.append(record)
        return Page(tuple(records), after, more, caught_up=not more)
