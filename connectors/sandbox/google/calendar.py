"""Calendar v3 methods: calendarList.list/get, events.list (full and incremental) and events.get.

Only `singleEvents=true` is served (the sandbox holds instances, not series masters). A sync
token from the last page of a full sync brings every event changed since, cancelled ones
included; an invalidated or unknown token gives Calendar's 410 fullSyncRequired.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TypeAlias

from keepwarm.connectors.sandbox.google.errors import ApiError, bad_request, not_found
from keepwarm.connectors.sandbox.google.event_json import calendar_entry, event_resource, rfc3339
from keepwarm.connectors.sandbox.google.events import EventStore, StoredEvent
from keepwarm.connectors.sandbox.google.pages import decode_token, encode_token, int_param
from keepwarm.connectors.sandbox.google.scopes import CALENDAR_EVENTS, CALENDAR_LIST, require
from keepwarm.connectors.sandbox.google.wire import Caller, Request, Response

__all__ = ["Handler", "match"]

Handler: TypeAlias = Callable[[Request, Caller, EventStore, tuple[str, ...]], Response]

# Parameters a syncToken cannot be combined with (Calendar's events.list reference).
_NOT_WITH_SYNC = ("iCalUID", "orderBy", "q", "timeMin", "timeMax", "updatedMin")


def match(request: Request) -> tuple[str, Handler, tuple[str, ...]] | None:
    """(discovery method id, handler, path arguments) for a Calendar GET path; None otherwise."""
    if request.method != "GET":
        return None
    for pattern, method, handler in _ROUTES:
        found = pattern.match(request.path)
        if found is not None:
            return method, handler, found.groups()
    return None


def _calendar_list(
    request: Request, caller: Caller, store: EventStore, args: tuple[str, ...]
) -> Response:
    require(caller.scopes, CALENDAR_LIST)
    return Response.json(
        200,
        {
            "kind": "calendar#calendarList",
            "etag": f'"{store.token_epoch}"',
            "items": [calendar_entry(store)],
        },
    )


def _calendar_entry(
    request: Request, caller: Caller, store: EventStore, args: tuple[str, ...]
) -> Response:
    require(caller.scopes, CALENDAR_LIST)
    _calendar(store, args[0])
    return Response.json(200, calendar_entry(store))


def _get_event(
    request: Request, caller: Caller, store: EventStore, args: tuple[str, ...]
) -> Response:
    require(caller.scopes, CALENDAR_EVENTS)
    _calendar(store, args[0])
    event = store.get(args[1])
    if event is None:
        raise not_found(with_status=False)
    return Response.json(200, event_resource(event, store.owner))


def _list_events(
    request: Request, caller: Caller, store: EventStore, args: tuple[str, ...]
) -> Response:
    require(caller.scopes, CALENDAR_EVENTS)
    _calendar(store, args[0])
    if request.param("singleEvents") != "true":
        raise bad_request(
            "keepwarm sandbox serves events.list with singleEvents=true only (it holds "
            "instances, not series masters)"
        )
    size = int_param(request.param("maxResults"), "maxResults", default=250, maximum=2500)
    page_token = request.param("pageToken")
    query = _Query.from_token(page_token) if page_token else _Query.first(request, store)
    if query.epoch != store.token_epoch:
        raise _sync_gone()
    found = query.events(store)
    page = found[query.offset : query.offset + size]
    body: dict[str, object] = {
        "kind": "calendar#events",
        "etag": f'"{store.change}"',
        "summary": store.owner,
        "updated": rfc3339(max((e.updated for e in found), default=datetime.now(UTC))),
        "timeZone": "UTC",
        "accessRole": "owner",
        "defaultReminders": [],
    }
    if query.offset + size < len(found):
        body["nextPageToken"] = replace(query, offset=query.offset + size).token()
    else:  # the token names the snapshot the first page was cut at: nothing falls between
        body["nextSyncToken"] = encode_token({"e": store.token_epoch, "sync": query.snapshot})
    body["items"] = [event_resource(event, store.owner) for event in page]
    return Response.json(200, body)


@dataclass(frozen=True, slots=True)
class _Query:
    """An events.list query across its pages: carried in the page token."""

    epoch: int
    snapshot: int  # the change counter when the first page was served
    offset: int = 0
    since: int | None = None  # incremental: the sync token's counter
    time_min: str | None = None
    time_max: str | None = None
    deleted: bool = False
    by_updated: bool = False

    @classmethod
    def first(cls, request: Request, store: EventStore) -> _Query:
        """The query of a first page. Raises ApiError 400 for bad parameters, 410 for a stale
        sync token."""
        sync_token = request.param("syncToken")
        if sync_token is None:
            return cls(
                store.token_epoch,
                store.change,
                time_min=_time(request.param("timeMin"), "timeMin"),
                time_max=_time(request.param("timeMax"), "timeMax"),
                deleted=request.param("showDeleted") == "true",
                by_updated=request.param("orderBy") == "updated",
            )
        clashing = [name for name in _NOT_WITH_SYNC if request.param(name) is not None]
        if clashing:
            raise bad_request(f"syncToken cannot be combined with {', '.join(clashing)}")
        token = decode_token(sync_token) or {}
        since = token.get("sync")
        if token.get("e") != store.token_epoch or not isinstance(since, int):
            raise _sync_gone()
        return cls(store.token_epoch, store.change, since=since)

    @classmethod
    def from_token(cls, token: str) -> _Query:
        """The query a page token continues. Raises ApiError 400 for a foreign token."""
        state = decode_token(token) or {}
        types = {"epoch": int, "snapshot": int, "offset": int, "deleted": bool, "by_updated": bool}
        optional = {"since": int, "time_min": str, "time_max": str}
        valid = set(state) == set(types) | set(optional)
        valid = valid and all(isinstance(state[name], kind) for name, kind in types.items())
        valid = valid and all(
            state[name] is None or isinstance(state[name], kind) for name, kind in optional.items()
        )
        if not valid:
            raise bad_request("Invalid pageToken")
        return cls(**state)  # type: ignore[arg-type]  # checked field by field above

    def token(self) -> str:
        """This query as a page token."""
        return encode_token({name: getattr(self, name) for name in self.__slots__})

    def events(self, store: EventStore) -> list[StoredEvent]:
        """Every event of the query, in page order."""
        if self.since is not None:  # incremental: all changes after the token, deletions too
            return [e for e in store.changed_after(self.since) if e.change <= self.snapshot]
        low = datetime.fromisoformat(self.time_min) if self.time_min else None
        high = datetime.fromisoformat(self.time_max) if self.time_max else None
        found = [
            event
            for event in store.all()
            if (self.deleted or not event.cancelled)
            and (low is None or event.end > low)
            and (high is None or event.start < high)
        ]
        if self.by_updated:
            found.sort(key=lambda event: (event.updated, event.id))
        return found


def _time(value: str | None, name: str) -> str | None:
    """Validate an RFC 3339 bound (an offset is mandatory) and keep it as UTC ISO text."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise bad_request(f"Invalid value for {name}: {value}") from None
    if moment.tzinfo is None:
        raise bad_request(f"Invalid value for {name}: {value} (no time zone offset)")
    return moment.astimezone(UTC).isoformat()


def _sync_gone() -> ApiError:
    return ApiError(
        410,
        "Sync token is no longer valid, a full sync is required.",
        "fullSyncRequired",
        domain="calendar",
        location=("parameter", "syncToken"),
        with_status=False,
    )


def _calendar(store: EventStore, calendar_id: str) -> None:
    if calendar_id != "primary" and calendar_id.lower() != store.owner.lower():
        raise not_found(with_status=False)


_ROUTES: list[tuple[re.Pattern[str], str, Handler]] = [
    (
        re.compile(r"^/calendar/v3/users/me/calendarList$"),
        "calendar.calendarList.list",
        _calendar_list,
    ),
    (
        re.compile(r"^/calendar/v3/users/me/calendarList/([^/]+)$"),
        "calendar.calendarList.get",
        _calendar_entry,
    ),
    (re.compile(r"^/calendar/v3/calendars/([^/]+)/events$"), "calendar.events.list", _list_events),
    (
        re.compile(r"^/calendar/v3/calendars/([^/]+)/events/([^/]+)$"),
        "calendar.events.get",
        _get_event,
    ),
]
