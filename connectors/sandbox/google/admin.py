"""The Google sandbox's own `/_sandbox/...` endpoints, beside the faults and stats endpoints
of `sandbox.admin` (faults parsed by `faults.parse_fault`; stats: user, quota units, calls per
method, refused calls, historyId, counts). Answers are indented like Google's JSON.

- `POST /_sandbox/seed` `{"paths": [...]}` adds mail and events while running.
- `POST /_sandbox/events/{id}/cancel`, `POST /_sandbox/events/{id}/move` `{"start": RFC3339}`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Protocol

from keepwarm.connectors.sandbox import admin
from keepwarm.connectors.sandbox.admin import PREFIX
from keepwarm.connectors.sandbox.google.faults import Fault, parse_fault
from keepwarm.connectors.sandbox.google.wire import Request, Response

__all__ = ["PREFIX", "Controls", "handle"]

_EVENT_ACTION = re.compile(r"^/_sandbox/events/([^/]+)/(cancel|move)$")


class Controls(admin.SandboxControls[Fault], Protocol):
    """What the admin endpoints drive: `GoogleSandbox` implements it."""

    def seed(self, paths: Sequence[Path]) -> dict[str, object]: ...


def handle(request: Request, controls: Controls) -> Response:
    """Answer one admin request; bad input gives 400 `{"error": "..."}`."""
    routes = partial(_route, controls=controls)
    return admin.handle(request, controls, parse_fault, Response.json, routes)


def _route(request: Request, controls: Controls) -> Response | None:
    path, method = request.path, request.method
    if path == "/_sandbox/seed" and method == "POST":
        return Response.json(200, controls.seed(admin.seed_paths(admin.read_json(request))))
    action = _EVENT_ACTION.match(path)
    if action is not None and method == "POST":
        event_id, verb = action.groups()
        if verb == "cancel":
            controls.cancel_event(event_id)
        else:
            controls.move_event(event_id, admin.start_of(request, "RFC 3339 date-time"))
        return Response.json(200, {"ok": True})
    return None
