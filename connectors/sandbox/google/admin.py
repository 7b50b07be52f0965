"""`/_sandbox/...`: drive the sandbox from another process (tests, benchmarks, the demo).

- `POST /_sandbox/faults` a fault object or a list of them (see `faults.parse_fault`);
  `GET` lists the queued ones; `DELETE` clears them.
- `POST /_sandbox/seed` `{"paths": [...]}` adds mail and events while running.
- `POST /_sandbox/events/{id}/cancel`, `POST /_sandbox/events/{id}/move` `{"start": RFC3339}`.
- `GET /_sandbox/stats`: user, quota units, calls per method, refused calls, historyId, counts.

No authentication: the server listens on loopback only and exists for tests.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Protocol

from keepwarm.connectors.sandbox import admin
from keepwarm.connectors.sandbox.admin import (
    PREFIX,
    SandboxControls,
    read_json,
    seed_paths,
    start_of,
)
from keepwarm.connectors.sandbox.google.faults import Fault, parse_fault
from keepwarm.connectors.sandbox.google.wire import Request, Response

__all__ = ["PREFIX", "Controls", "handle"]

_EVENT_ACTION = re.compile(r"^/_sandbox/events/([^/]+)/(cancel|move)$")


class Controls(SandboxControls[Fault], Protocol):
    """What the admin endpoints drive: `GoogleSandbox` implements it."""

    def seed(self, paths: Sequence[Path]) -> dict[str, object]: ...


def handle(request: Request, controls: Controls) -> Response:
    """Answer one admin request; bad input gives 400 `{"error": "..."}`."""
    routes = partial(_route, controls=controls)
    return admin.handle(request, controls, parse_fault, Response.json, routes)


def _route(request: Request, controls: Controls) -> Response | None:
    path, method = request.path, request.method
    if path == "/_sandbox/seed" and method == "POST":
        return Response.json(200, controls.seed(seed_paths(read_json(request))))
    action = _EVENT_ACTION.match(path)
    if action is not None and method == "POST":
        event_id, verb = action.groups()
        if verb == "cancel":
            controls.cancel_event(event_id)
        else:
            controls.move_event(event_id, start_of(request, "RFC 3339 date-time"))
        return Response.json(200, {"ok": True})
    return None
