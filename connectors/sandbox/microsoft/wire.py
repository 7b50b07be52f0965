"""Graph's JSON responses and request details shared by every handler.

The request and response values themselves are the Google sandbox's (`sandbox.google.wire`):
one HTTP model for both emulators.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from keepwarm.connectors.sandbox.google.wire import Request, Response

__all__ = ["GRAPH_JSON", "base_url", "json_response", "prefer"]

# The Content-Type Graph answers JSON with.
GRAPH_JSON = (
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;"
    "charset=utf-8"
)


def json_response(
    status: int,
    payload: object,
    headers: Sequence[tuple[str, str]] = (),
    *,
    odata: bool = True,
) -> Response:
    """A compact JSON response, as Graph (odata) or the identity platform sends them."""
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    kind = GRAPH_JSON if odata else "application/json; charset=utf-8"
    return Response(status, body, kind, tuple(headers))


def base_url(request: Request) -> str:
    """`http://<Host>`: where the client reached us, for the absolute links Graph returns."""
    return "http://" + (request.header("host") or "127.0.0.1")


def prefer(request: Request) -> dict[str, str]:
    """The `Prefer` header's preferences: `odata.maxpagesize=50, outlook.timezone="UTC"` gives
    {"odata.maxpagesize": "50", "outlook.timezone": "UTC"} (names lower case)."""
    found: dict[str, str] = {}
    for part in (request.header("prefer") or "").split(","):
        name, _, value = part.strip().partition("=")
        if name:
            found[name.strip().lower()] = value.strip().strip('"')
    return found
