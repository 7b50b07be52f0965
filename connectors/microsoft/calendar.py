"""The Outlook calendar through Graph's calendar-view delta, as one stream of the sync seam.

Graph v1.0 tracks changes of the primary calendar's view over a fixed range: recurring series
come as their occurrences, each with its own id, exceptions included; a cancelled meeting stays
with `isCancelled` until it is removed (`@removed`). The range is a rolling window, from the
sync window's start to `days_ahead` days from now: once the stored range ends within
`renew_days`, the view is read afresh over a new range (the records are upserts, so nothing is
doubled). A 410 raises CursorExpired, and services reads the view again.

Declined and cancelled meetings arrive as they are (the owner's own answer as an attendee), and
derivation leaves them out, as it does for every calendar.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from keepwarm.connectors.base import Page
from keepwarm.connectors.errors import PermanentProviderError
from keepwarm.connectors.microsoft.graph import GraphClient
from keepwarm.connectors.microsoft.translate import to_calendar_event
from keepwarm.connectors.types import CalendarEvent, Unreadable

__all__ = ["STREAM", "GraphCalendarSource"]

STREAM = "calendar"
_PREFER = 'outlook.timezone="UTC", odata.maxpagesize={size}'


class GraphCalendarSource:
    """The owner's primary calendar as one stream (connectors.base.CalendarSource)."""

    def __init__(
        self,
        graph: GraphClient,
        owner: str,
        *,
        days_ahead: int = 365,
        renew_days: int = 180,
        page_size: int = 250,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._graph = graph
        self._owner = owner.lower()
        self._ahead = timedelta(days=days_ahead)
        self._renew = timedelta(days=min(renew_days, days_ahead))
        self._page_size = page_size
        self._now = now

    def streams(self) -> Sequence[str]:
        """The one calendar the v1.0 view delta covers: the primary one."""
        return [STREAM]

    def read(self, stream: str, cursor: str | None, *, since: datetime) -> Page[CalendarEvent]:
        """One page of the view's occurrences (or changes). Raises CursorExpired for a link
        Graph no longer knows, and the other ProviderErrors of GraphClient."""
        if stream != STREAM:
            raise PermanentProviderError(f"{stream}: no such calendar")
        state: dict[str, Any] = json.loads(cursor) if cursor else {}
        prefer = _PREFER.format(size=self._page_size)
        now = self._now()
        end = datetime.fromisoformat(state["end"]) if state.get("end") else None
        renew = state.get("caught_up") and end is not None and end - now < self._renew
        if state.get("link") and not renew:
            body = self._graph.get(state["link"], prefer=prefer, cursor=True)
            start, caught_up = datetime.fromisoformat(state["start"]), state["caught_up"]
        else:
            # A renewed range is no first read: the stream stays caught up.
            start, end, caught_up = since, now + self._ahead, bool(state.get("caught_up"))
            body = self._graph.get(
                "/me/calendarView/delta",
                params={"startDateTime": _iso(start), "endDateTime": _iso(end)},
                prefer=prefer,
            )
        records: list[CalendarEvent | Unreadable] = []
        for item in body.get("value", []):
            event = to_calendar_event(item, self._owner)
            if event is None:
                records.append(Unreadable(f"graph-calendar:{item.get('id')}", "no usable time"))
            else:
                records.append(event)
        next_link = body.get("@odata.nextLink")
        link = next_link or body.get("@odata.deltaLink")
        if not link:
            raise PermanentProviderError("calendar: Graph gave neither nextLink nor deltaLink")
        caught_up = bool(caught_up) or next_link is None
        assert end is not None
        after = json.dumps(
            {
                "link": link,
                "caught_up": caught_up,
                "start": start.isoformat(),
                "end": end.isoformat(),
            }
        )
        return Page(tuple(records), after, next_link is not None, caught_up)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
