"""Google Calendar behind the sync seam: one stream per calendar, followed by sync tokens.

A first read lists every occurrence ending after the window's start (recurring events as
single occurrences); its last page gives a sync token, and later reads list only changes,
cancellations included. Calendar answers 410 for a token it has forgotten: the reader raises
CursorExpired and services reads that calendar again in full. The cursor is
`{"sync": token|null, "page": token|null}`, opaque to services.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from keepwarm.connectors.base import Page
from keepwarm.connectors.google.calendar import CalendarReader
from keepwarm.connectors.types import CalendarEvent

__all__ = ["GoogleCalendarSource"]


class GoogleCalendarSource:
    """The calendars a user owns or can write to (connectors.base.CalendarSource)."""

    def __init__(self, reader: CalendarReader) -> None:
        self._reader = reader
        self._calendars: list[str] | None = None

    def streams(self) -> Sequence[str]:
        if self._calendars is None:
            self._calendars = self._reader.calendars()
        return list(self._calendars)

    def read(self, stream: str, cursor: str | None, *, since: datetime) -> Page[CalendarEvent]:
        state = json.loads(cursor) if cursor else {}
        sync_token, page_token = state.get("sync"), state.get("page")
        page = self._reader.page(
            stream, sync_token=sync_token, page_token=page_token, time_min=since
        )
        if page.next_page_token is not None:
            after = {"sync": sync_token, "page": page.next_page_token}
        else:
            after = {"sync": page.next_sync_token, "page": None}
        return Page(
            page.events,
            json.dumps(after, sort_keys=True),
            more=page.next_page_token is not None,
            caught_up=page.next_page_token is None or sync_token is not None,
        )
