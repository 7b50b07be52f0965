"""The Microsoft sandbox's own `/_sandbox/...` endpoints, beside the faults and stats
endpoints of `sandbox.admin` (faults parsed by `faults.parse_fault`; stats: user, requests
served and refused, counts, folders). Answers are compact plain JSON, not Graph's odata.

- `POST /_sandbox/seed` `{"paths": [...], "folder": optional well-known name or path}` adds
  mail and events while running.
- `POST /_sandbox/messages/{id}/move` `{"folder": ...}` (answers the new id),
  `POST /_sandbox/messages/{id}/delete`.
- `POST /_sandbox/events/{id}/cancel`, `.../delete`, `.../move` `{"start": ISO 8601}`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Protocol

from keepwarm.connectors.sandbox import admin
from keepwarm.connectors.sandbox.admin import PREFIX
from keepwarm.connectors.sandbox.google.wire import Request, Response
from keepwarm.connectors.sandbox.microsoft.faults import Fault, parse_fault
from keepwarm.connectors.sandbox.microsoft.wire import json_response

__all__ = ["PREFIX", "Controls", "handle"]

_ACTION = re.compile(r"^/_sandbox/(messages|events)/([^/]+)/(move|delete|cancel)$")


class Controls(admin.SandboxControls[Fault], Protocol):
    """What the admin endpoints drive: `MicrosoftSandbox` implements it."""

    def seed(self, paths: Sequence[Path], folder: str | None = None) -> dict[str, object]: ...
    def move_message(self, message_id: str, folder: str) -> str: ...
    def delete_message(self, message_id: str) -> None: ...
    def delete_event(self, event_id: str) -> None: ...


def handle(request: Request, controls: Controls) -> Response:
    """Answer one admin request; bad input gives 400 `{"error": "..."}`."""
    routes = partial(_route, controls=controls)
    return admin.handle(request, controls, parse_fault, _answer, routes)


def _answer(status: int, payload: object) -> Response:
    """Admin answers are plain JSON, not Graph's odata flavour."""
    return json_response(status, payload, odata=False)


def _route(request: Request, controls: Controls) -> Response | None:
    path, method = request.path, request.method
    if path == "/_sandbox/seed" and method == "POST":
        payload = admin.read_json(request)
        paths = admin.seed_paths(payload)
        folder = payload.get("folder") if isinstance(payload, dict) else None
        return _answer(200, controls.seed(paths, None if folder is None else str(folder)))
    action = _ACTION.match(path)
    if action is not None and method == "POST":
        kind, item_id, verb = action.groups()
        answer: dict[str, object] = {"ok": True}
        if kind == "messages" and verb == "move":
            payload = admin.read_json(request)
            folder = payload.get("folder") if isinstance(payload, dict) else None
            if not isinstance(folder, str):
                raise ValueError('expected {"folder": "well-known name or id"}')
            answer["id"] = controls.move_message(item_id, folder)
        elif kind == "messages" and verb == "delete":
            controls.delete_message(item_id)
        elif kind == "events" and verb == "cancel":
            controls.cancel_event(item_id)
        elif kind == "events" and verb == "delete":
            controls.delete_event(item_id)
        elif kind == "events" and verb == "move":
            controls.move_event(item_id, admin.start_of(request, "ISO 8601 date-time with offset"))
        else:
            raise ValueError(f"cannot {verb} {kind}")
        return _answer(200, answer)
    return None
