"""`/_sandbox/...`: drive the sandbox from another process (tests, benchmarks, the demo).

- `POST /_sandbox/faults` a fault object or a list of them (see `faults.parse_fault`);
  `GET` lists the queued ones; `DELETE` clears them.
- `POST /_sandbox/seed` `{"paths": [...], "folder": optional well-known name or path}` adds
  mail and events while running.
- `POST /_sandbox/messages/{id}/move` `{"folder": ...}` (answers the new id),
  `POST /_sandbox/messages/{id}/delete`.
- `POST /_sandbox/events/{id}/cancel`, `.../delete`, `.../move` `{"start": ISO 8601}`.
- `GET /_sandbox/stats`: user, requests served and refused, counts, folders.

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
from keepwarm.connectors.sandbox.google.wire import Request, Response
from keepwarm.connectors.sandbox.microsoft.faults import Fault, parse_fault
from keepwarm.connectors.sandbox.microsoft.wire import json_response

__all__ = ["PREFIX", "Controls", "handle"]

PREFIX = "/_sandbox/"
_ACTION = re.compile(r"^/_sandbox/(messages|events)/([^/]+)/(move|delete|cancel)$")


class Controls(Protocol):
    """What the admin endpoints drive: `MicrosoftSandbox` implements it."""

    def apply_fault(self, fault: Fault) -> None: ...
    def clear_faults(self) -> None: ...
    def pending_faults(self) -> list[Fault]: ...
    def seed(self, paths: Sequence[Path], folder: str | None = None) -> dict[str, object]: ...
    def move_message(self, message_id: str, folder: str) -> str: ...
    def delete_message(self, message_id: str) -> None: ...
    def cancel_event(self, event_id: str) -> None: ...
    def delete_event(self, event_id: str) -> None: ...
    def move_event(self, event_id: str, new_start: datetime) -> None: ...
    def stats(self) -> dict[str, object]: ...


def handle(request: Request, controls: Controls) -> Response:
    """Answer one admin request; bad input gives 400 `{"error": "..."}`."""
    try:
        return _route(request, controls)
    except (ValueError, KeyError, ConnectorError) as exc:
        return json_response(400, {"error": f"{type(exc).__name__}: {exc}"}, odata=False)


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
        pending = [asdict(f) for f in controls.pending_faults()]
        return json_response(200, {"pending": pending}, odata=False)
    if path == "/_sandbox/seed" and method == "POST":
        payload = _json(request)
        paths = payload.get("paths") if isinstance(payload, dict) else None
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            raise ValueError('expected {"paths": ["...", ...]}')
        folder = payload.get("folder") if isinstance(payload, dict) else None
        added = controls.seed([Path(p) for p in paths], None if folder is None else str(folder))
        return json_response(200, added, odata=False)
    if path == "/_sandbox/stats" and method == "GET":
        return json_response(200, controls.stats(), odata=False)
    action = _ACTION.match(path)
    if action is not None and method == "POST":
        kind, item_id, verb = action.groups()
        answer: dict[str, object] = {"ok": True}
        if kind == "messages" and verb == "move":
            payload = _json(request)
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
            payload = _json(request)
            start = payload.get("start") if isinstance(payload, dict) else None
            if not isinstance(start, str):
                raise ValueError('expected {"start": "ISO 8601 date-time with offset"}')
            controls.move_event(item_id, datetime.fromisoformat(start))
        else:
            raise ValueError(f"cannot {verb} {kind}")
        return json_response(200, answer, odata=False)
    return json_response(404, {"error": f"no admin endpoint {method} {path}"}, odata=False)


def _json(request: Request) -> object:
    try:
        return json.loads(request.body or b"null")
    except ValueError:
        raise ValueError("body is not JSON") from None
