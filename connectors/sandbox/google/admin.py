"""`/_sandbox/...`: drive the sandbox from another process (tests, benchmarks, the demo).

- `POST /_sandbox/faults` a fault object or a list of them (see `faults.parse_fault`);
  `GET` lists the queued ones; `DELETE` clears them.
- `POST /_sandbox/seed` `{"paths": [...]}` adds mail and events while running.
- `POST /_sandbox/events/{id}/cancel`, `POST /_sandbox/events/{id}/move` `{"start": RFC3339}`.
- `GET /_sandbox/stats`: user, quota units, calls per method, refused calls, historyId, counts.

No authentication: the server listens on loopback only and exists for tests.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Protocol

from keepwarm.connectors.errors import ConnectorError
from keepwarm.connectors.sandbox.google.faults import Fault, parse_fault
from keepwarm.connectors.sandbox.google.wire import Request, Response

__all__ = ["PREFIX", "Controls", "handle"]

PREFIX = "/_sandbox/"
_EVENT_ACTION = re.compile(r"^/_sandbox/events/([^/]+)/(cancel|move)$")


class Controls(Protocol):
    """What the admin endpoints drive: `GoogleSandbox` implements it."""

    def apply_fault(self, fault: Fault) -> None: ...
    def clear_faults(self) -> None: ...
    def pending_faults(self) -> list[Fault]: ...
    def seed(self, paths: Sequence[Path]) -> dict[str, object]: ...
    def cancel_event(self, event_id: str) -> None: ...
    def move_event(self, event_id: str, new_start: datetime) -> None: ...
    def stats(self) -> dict[str, object]: ...


def handle(request: Request, controls: Controls) -> Response:
    """Answer one admin request; bad input gives 400 `{"error": "..."}`."""
    try:
        return _route(request, controls)
    except (ValueError, KeyError, ConnectorError) as exc:
        return Response.json(400, {"error": f"{type(exc).__name__}: {exc}"})


def _route(request: Request, controls: Controls) -> Response:
    path, method = request.path, request.method
    if path == "/_sandbox/faults":
        if method == "POST":
            payload = _json(request)
            for item in payload if isinstance(payload, list) else [payload]:
                if not isinstance(item, dict):
                    raise ValueError("a fault is a JSON object")
                controls.apply_fault(parse_fault(item))
        elif method == "DELETE":
            controls.clear_faults()
        return Response.json(200, {"pending": [asdict(f) for f in controls.pending_faults()]})
    if path == "/_sandbox/seed" and method == "POST":
        payload = _json(request)
        paths = payload.get("paths") if isinstance(payload, dict) else None
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            raise ValueError('expected {"paths": ["...", ...]}')
        return Response.json(200, controls.seed([Path(p) for p in paths]))
    if path == "/_sandbox/stats" and method == "GET":
        return Response.json(200, controls.stats())
    action = _EVENT_ACTION.match(path)
    if action is not None and method == "POST":
        event_id, verb = action.groups()
        if verb == "cancel":
            controls.cancel_event(event_id)
        else:
            payload = _json(request)
            start = payload.get("start") if isinstance(payload, dict) else None
            if not isinstance(start, str):
                raise ValueError('expected {"start": "RFC 3339 date-time"}')
            controls.move_event(event_id, datetime.fromisoformat(start))
        return Response.json(200, {"ok": True})
    return Response.json(404, {"error": f"no admin endpoint {method} {path}"})


def _json(request: Request) -> object:
    try:
        return json.loads(request.body or b"null")
    except ValueError:
        raise ValueError("body is not JSON") from None
