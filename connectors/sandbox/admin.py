"""`/_sandbox/...`: the admin endpoints every sandbox has, and the parsing its own ones share.

- `POST /_sandbox/faults` a fault object or a list of them (the provider's `parse_fault`);
  `GET` lists the queued ones; `DELETE` clears them.
- `GET /_sandbox/stats`: what the sandbox's `stats()` says.

A provider's `admin` module adds its own endpoints (seeding, changes to mail and events) and
answers in its own JSON style. No authentication: the server listens on loopback only and
exists for tests.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

from keepwarm.connectors.errors import ConnectorError
from keepwarm.connectors.sandbox.google.wire import Request, Response

__all__ = ["PREFIX", "SandboxControls", "handle", "read_json", "seed_paths", "start_of"]

PREFIX = "/_sandbox/"

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

F = TypeVar("F", bound="DataclassInstance")


class SandboxControls(Protocol[F]):
    """What the admin endpoints of every sandbox drive: its faults, stats and events."""

    def apply_fault(self, fault: F) -> None: ...
    def clear_faults(self) -> None: ...
    def pending_faults(self) -> list[F]: ...
    def stats(self) -> dict[str, object]: ...
    def cancel_event(self, event_id: str) -> None: ...
    def move_event(self, event_id: str, new_start: datetime) -> None: ...


def handle(
    request: Request,
    controls: SandboxControls[F],
    parse_fault: Callable[[Mapping[str, object]], F],
    answer: Callable[[int, object], Response],
    routes: Callable[[Request], Response | None],
) -> Response:
    """Answer one admin request: the fault and stats endpoints here, the provider's own through
    `routes` (None: not one of them), each answered with `answer(status, payload)`. Bad input
    (ValueError, KeyError, ConnectorError) gives 400 `{"error": "..."}`, an unknown endpoint
    404."""
    try:
        found = _route(request, controls, parse_fault, answer)
        if found is None:
            found = routes(request)
        if found is not None:
            return found
    except (ValueError, KeyError, ConnectorError) as exc:
        return answer(400, {"error": f"{type(exc).__name__}: {exc}"})
    return answer(404, {"error": f"no admin endpoint {request.method} {request.path}"})


def read_json(request: Request) -> object:
    """The request's JSON body (None when empty). Raises ValueError when it is not JSON."""
    try:
        return json.loads(request.body or b"null")
    except ValueError:
        raise ValueError("body is not JSON") from None


def seed_paths(payload: object) -> list[Path]:
    """The `paths` of a seed request's JSON. Raises ValueError when they are missing."""
    paths = payload.get("paths") if isinstance(payload, dict) else None
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise ValueError('expected {"paths": ["...", ...]}')
    return [Path(p) for p in paths]


def start_of(request: Request, expected: str) -> datetime:
    """The `start` of a move request's JSON. Raises ValueError naming what is `expected` when
    it is missing, or when it is not an ISO 8601 date-time."""
    payload = read_json(request)
    start = payload.get("start") if isinstance(payload, dict) else None
    if not isinstance(start, str):
        raise ValueError(f'expected {{"start": "{expected}"}}')
    return datetime.fromisoformat(start)


def _route(
    request: Request,
    controls: SandboxControls[F],
    parse_fault: Callable[[Mapping[str, object]], F],
    answer: Callable[[int, object], Response],
) -> Response | None:
    path, method = request.path, request.method
    if path == "/_sandbox/faults":
        if method == "POST":
            payload = read_json(request)
            for item in payload if isinstance(payload, list) else [payload]:
                if not isinstance(item, dict):
                    raise ValueError("a fault is a JSON object")
                controls.apply_fault(parse_fault(item))
        elif method == "DELETE":
            controls.clear_faults()
        return answer(200, {"pending": [asdict(f) for f in controls.pending_faults()]})
    if path == "/_sandbox/stats" and method == "GET":
        return answer(200, controls.stats())
    return None
