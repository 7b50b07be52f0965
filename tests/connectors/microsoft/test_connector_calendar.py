"""GraphCalendarSource against the sandbox: occurrences keyed by their Graph id (a moved one
updates its row), cancellations and removals as tombstones, the owner's own answer, and the
rolling window."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from keepwarm.connectors.microsoft.calendar import GraphCalendarSource
from keepwarm.connectors.microsoft.graph import GraphClient
from keepwarm.connectors.microsoft.sources import open_microsoft
from keepwarm.connectors.sandbox.microsoft import MicrosoftSandbox
from keepwarm.connectors.types import SINGLE_OCCURRENCE, CalendarEvent, ResponseStatus
from tests.support.microsoft import CANCELLED, connect
from tests.support.paths import RECUR

SINCE = datetime(2012, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 30, tzinfo=UTC)
_DECLINED = """\
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//keepwarm//test//EN
BEGIN:VEVENT
UID:declined-1@example.com
DTSTART:20250310T150000Z
DTEND:20250310T160000Z
SUMMARY:Quarterly review
ORGANIZER;CN=Ann Lee:mailto:ann@example.com
ATTENDEE;PARTSTAT=ACCEPTED;CN=Ann Lee:mailto:ann@example.com
ATTENDEE;PARTSTAT=DECLINED;CN=Owner:mailto:owner@example.com
ATTENDEE;CUTYPE=ROOM;PARTSTAT=ACCEPTED:mailto:room1@example.com
END:VEVENT
END:VCALENDAR
"""


def read_all(
    source: GraphCalendarSource, cursor: str | None = None
) -> tuple[list[CalendarEvent], str]:
    events: list[CalendarEvent] = []
    while True:
        page = source.read("calendar", cursor, since=SINCE)
        events += [r for r in page.records if isinstance(r, CalendarEvent)]
        cursor = page.cursor
        if not page.more:
            return events, cursor


def calendar(
    sandbox: MicrosoftSandbox, now: datetime = NOW
) -> tuple[GraphCalendarSource, GraphClient]:
    auth, grant = connect(sandbox)
    graph = GraphClient(auth.endpoints.graph, auth.tokens(grant.tokens))
    return GraphCalendarSource(graph, grant.email, page_size=60, now=lambda: now), graph


def test_occurrences_cancellations_and_changes(make_ms: Callable[..., MicrosoftSandbox]) -> None:
    sandbox = make_ms(RECUR, CANCELLED, user_email="owner@example.com")
    source, graph = calendar(sandbox)
    try:
        events, cursor = read_all(source)
        assert source.streams() == ["calendar"]
        assert len({e.uid for e in events}) == len(events)
        assert all(
            e.uid.startswith("graph:") and e.occurrence_start == SINGLE_OCCURRENCE for e in events
        )
        cancelled = [e for e in events if e.summary == "one is cancelled"]
        assert [e.cancelled for e in cancelled] == [False, True, False]
        crazy = [e for e in events if e.summary == "Crazy Event Thingy!"]
        assert crazy[0].organizer is not None and crazy[0].organizer.email == "jlal@mozilla.com"
        owner = {a.email: a for a in crazy[0].attendees}["owner@example.com"]
        assert owner.response is ResponseStatus.NEEDS_ACTION
        assert all(e.calendar_owner == "owner@example.com" for e in events)
        # Moved, cancelled, deleted: the same ids come back, the deleted one as a tombstone.
        ids = sandbox.event_ids()
        first, second, third = (ids[i] for i in (0, 1, 2))
        sandbox.move_event(first, datetime(2013, 5, 5, 12, tzinfo=UTC))
        sandbox.cancel_event(second)
        sandbox.delete_event(third)
        changes, cursor = read_all(source, cursor)
        by_uid = {e.uid: e for e in changes}
        assert by_uid["graph:" + first].start == datetime(2013, 5, 5, 12, tzinfo=UTC)
        assert by_uid["graph:" + second].cancelled and not by_uid["graph:" + second].tombstone
        assert by_uid["graph:" + third].tombstone and by_uid["graph:" + third].cancelled
        assert read_all(source, cursor)[0] == []
    finally:
        graph.close()


def test_the_owners_own_answer_and_resources(
    make_ms: Callable[..., MicrosoftSandbox], tmp_path: Path
) -> None:
    path = tmp_path / "declined.ics"
    path.write_text(_DECLINED)
    sandbox = make_ms(path, user_email="owner@example.com")
    source, graph = calendar(sandbox)
    try:
        (event,) = read_all(source)[0]
    finally:
        graph.close()
    people = {a.email: a for a in event.attendees}
    assert people["owner@example.com"].response is ResponseStatus.DECLINED
    assert people["room1@example.com"].is_resource
    assert event.start == datetime(2025, 3, 10, 15, tzinfo=UTC)
    assert event.end - event.start == timedelta(hours=1)


def test_the_window_rolls_forward(make_ms: Callable[..., MicrosoftSandbox]) -> None:
    sandbox = make_ms(RECUR, user_email="owner@example.com")
    source, graph = calendar(sandbox, now=datetime(2020, 1, 1, tzinfo=UTC))
    try:
        events, cursor = read_all(source)
        assert max(e.start for e in events) < datetime(2021, 1, 2, tzinfo=UTC)
        later = GraphCalendarSource(
            graph, "owner@example.com", now=lambda: datetime(2020, 9, 1, tzinfo=UTC)
        )
        page = later.read("calendar", cursor, since=SINCE)
        assert page.caught_up  # a renewed range is not a first read
        renewed, _ = read_all(later, cursor)
        assert max(e.start for e in renewed) > datetime(2021, 6, 1, tzinfo=UTC)
        assert not sandbox.requests()[-1].count("$deltatoken")
    finally:
        graph.close()


def test_open_microsoft_shares_one_client(ms: MicrosoftSandbox) -> None:
    auth, grant = connect(ms)
    sources = open_microsoft(auth, grant.tokens, owner=grant.email)
    try:
        assert sources.calendar.streams() == ["calendar"]
        assert sources.current_tokens() == grant.tokens
    finally:
        sources.close()
