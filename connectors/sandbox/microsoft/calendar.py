"""Graph v1.0 `/me/calendarView/delta`: the primary calendar's occurrences in a date range.

The first request names the range (`startDateTime`, `endDateTime`, ISO 8601; UTC when no
offset is given) and the range is fixed into the tokens. `$select` is not supported, as Graph
documents. Later rounds bring occurrences changed since (full objects) and `@removed` for
those deleted or moved out of the range.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeAlias

from keepwarm.connectors.sandbox.google.wire import Request, Response
from keepwarm.connectors.sandbox.microsoft.delta import (
    DeltaState,
    Tombstone,
    decode_state,
    run_page,
)
from keepwarm.connectors.sandbox.microsoft.errors import (
    GraphError,
    bad_request,
    sync_state_not_found,
)
from keepwarm.connectors.sandbox.microsoft.event_json import event_resource, zone
from keepwarm.connectors.sandbox.microsoft.events import Calendar, CalendarItem
from keepwarm.connectors.sandbox.microsoft.mail import Caller, page_size
from keepwarm.connectors.sandbox.microsoft.routes import Target
from keepwarm.connectors.sandbox.microsoft.scopes import CALENDAR_ANY, CALENDAR_BODIES, require
from keepwarm.connectors.sandbox.microsoft.wire import base_url, json_response, prefer

__all__ = ["Handler", "match"]

Handler: TypeAlias = Callable[[Request, Caller, Calendar, tuple[str, ...]], Response]
_KEY = "calendarView"


def match(target: Target) -> tuple[str, Handler] | None:
    """(operation name, handler) for a calendar path; None for anything else."""
    if target.names in (
        ("me", "calendarview", "delta"),
        ("me", "calendar", "calendarview", "delta"),
    ):
        return "event.delta", _delta
    return None


def _delta(request: Request, caller: Caller, calendar: Calendar, keys: tuple[str, ...]) -> Response:
    require(caller.scopes, CALENDAR_ANY)
    base = base_url(request)
    first = f"{base}/v1.0/me/calendarView/delta"
    skip, delta = request.param("$skiptoken"), request.param("$deltatoken")
    if skip is not None or delta is not None:
        state = decode_state(skip if skip is not None else delta or "")
        if state.key != _KEY:
            raise bad_request("The delta token is not a calendar view's.", "ErrorInvalidUrlQuery")
        if state.epoch != calendar.epoch:
            raise sync_state_not_found(state.epoch, first)
        if skip is None:
            state = DeltaState(_KEY, state.base, calendar.change, state.epoch, False, state.query)
    else:
        if request.param("$select") is not None:
            raise bad_request(
                "$select is not supported on a calendar view delta query.",
                "ErrorInvalidUrlQuery",
            )
        start = _moment(request.param("startDateTime") or request.param("startdatetime"))
        end = _moment(request.param("endDateTime") or request.param("enddatetime"))
        if start is None or end is None:
            raise GraphError(
                400,
                "ErrorInvalidParameter",
                "This request requires a time window specified by the query string parameters "
                "StartDateTime and EndDateTime.",
            )
        query = {"s": start.isoformat(), "e": end.isoformat()}
        state = DeltaState(_KEY, 0, calendar.change, calendar.epoch, True, query)
    low = datetime.fromisoformat(state.query["s"])
    high = datetime.fromisoformat(state.query["e"])

    def in_view(item: CalendarItem) -> bool:
        return item.start < high and item.end > low

    items = calendar.all()
    tombstones = list(calendar.tombstones())
    if state.initial:
        present = [item for item in items if in_view(item)]
    else:
        # An occurrence changed to fall outside the range leaves the view: @removed.
        present = [item for item in items if in_view(item)]
        tombstones += [Tombstone(item.id, item.change) for item in items if not in_view(item)]
    page = run_page(
        state,
        present=present,
        tombstones=tombstones,
        change_of=lambda item: item.change,
        order_of=lambda item: [item.start.timestamp(), item.order],
        size=page_size(request, initial=skip is None and delta is None),
    )
    tz = zone(prefer(request).get("outlook.timezone"))
    bodies = bool(caller.scopes & CALENDAR_BODIES)
    value: list[dict[str, Any]] = []
    for entry in page.entries:
        if isinstance(entry, Tombstone):
            value.append(
                {
                    "@odata.type": "#microsoft.graph.event",
                    "id": entry.id,
                    "@removed": {"reason": "deleted"},
                }
            )
        else:
            value.append(event_resource(entry, calendar.owner, tz, bodies=bodies))
    body: dict[str, Any] = {"@odata.context": base + "/v1.0/$metadata#Collection(event)"}
    if page.more:
        body["@odata.nextLink"] = f"{first}?$skiptoken={page.state.skip_token()}"
    else:
        body["@odata.deltaLink"] = f"{first}?$deltatoken={page.state.delta_token()}"
    body["value"] = value
    headers = (("Preference-Applied", f'outlook.timezone="{tz[0]}"'),)
    return json_response(200, body, headers)


def _moment(value: str | None) -> datetime | None:
    """An ISO 8601 date-time; one without an offset is UTC. Raises GraphError 400."""
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    if "." in text:  # Graph writes seven fractional digits; Python reads at most six
        head, _, tail = text.partition(".")
        digits = "".join(ch for ch in tail if ch.isdigit())
        rest = tail[len(digits) :]
        text = f"{head}.{digits[:6].ljust(6, '0')}{rest}"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise bad_request(f"The value '{value}' is not a valid date and time.") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
