"""Graph JSON batching: `POST /v1.0/$batch` with up to 20 requests.

Inner requests without `dependsOn` run side by side, at most 4 at a time (Graph's own
parallelism for a batch); one with `dependsOn` runs after those it names, or fails with 424
when one of them failed. Each inner request is authenticated, throttled and answered exactly
as if it came alone, so a 200 batch can carry inner 429s with their own `Retry-After`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from keepwarm.connectors.sandbox.google.wire import Request, Response
from keepwarm.connectors.sandbox.microsoft.errors import GraphError, bad_request
from keepwarm.connectors.sandbox.microsoft.routes import GRAPH_PREFIX
from keepwarm.connectors.sandbox.microsoft.wire import json_response

__all__ = ["BATCH_PATH", "MAX_REQUESTS", "run_batch"]

BATCH_PATH = GRAPH_PREFIX + "/$batch"
MAX_REQUESTS = 20
PARALLEL = 4


def run_batch(request: Request, handle: Callable[[Request], Response]) -> Response:
    """Answer a JSON batch, each inner request through `handle`.

    Raises GraphError 400 for a body that is not a batch, holds more than 20 requests, or
    names a dependency that is not in it.
    """
    inner = _requests(request)
    answers: dict[str, dict[str, Any]] = {}
    waiting = list(inner)
    with ThreadPoolExecutor(max_workers=PARALLEL, thread_name_prefix="graph-batch") as pool:
        while waiting:
            ready = [r for r in waiting if all(d in answers for d in r.get("dependsOn", []))]
            if not ready:
                raise bad_request("The batch's dependsOn chain is circular.")
            for item in ready:
                waiting.remove(item)
            failed = [r for r in ready if _failed_dependency(r, answers)]
            runnable = [r for r in ready if r not in failed]
            for item in failed:
                answers[item["id"]] = _answer(
                    item["id"],
                    GraphError(
                        424, "FailedDependency", "A request this one depends on failed."
                    ).response(),
                )
            results = pool.map(lambda r: handle(_inner(request, r)), runnable)
            for item, result in zip(runnable, results, strict=True):
                answers[item["id"]] = _answer(item["id"], result)
    return json_response(200, {"responses": [answers[r["id"]] for r in inner]})


def _requests(request: Request) -> list[dict[str, Any]]:
    try:
        payload = json.loads(request.body or b"null")
    except ValueError:
        raise bad_request("Unable to deserialize the batch request body.") from None
    items = payload.get("requests") if isinstance(payload, dict) else None
    if not isinstance(items, list) or not items:
        raise bad_request("The batch request must have a non-empty 'requests' array.")
    if len(items) > MAX_REQUESTS:
        raise bad_request(f"The number of requests in a batch is limited to {MAX_REQUESTS}.")
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, dict) or not all(k in item for k in ("id", "method", "url")):
            raise bad_request("Every batch request needs 'id', 'method' and 'url'.")
        item["id"] = str(item["id"])
        if item["id"] in seen:
            raise bad_request(f"The batch request id '{item['id']}' is used twice.")
        seen.add(item["id"])
    for item in items:
        for dependency in item.get("dependsOn", []):
            if str(dependency) not in seen:
                raise bad_request(f"dependsOn names an unknown request '{dependency}'.")
        item["dependsOn"] = [str(d) for d in item.get("dependsOn", [])]
    return items


def _failed_dependency(item: dict[str, Any], answers: dict[str, dict[str, Any]]) -> bool:
    return any(int(answers[d]["status"]) >= 400 for d in item.get("dependsOn", []))


def _inner(outer: Request, item: dict[str, Any]) -> Request:
    """The inner request as if sent alone: the outer request's headers (its token) under the
    inner ones, the URL relative to /v1.0."""
    url = str(item["url"])
    parts = urlsplit(url if url.startswith("/") else "/" + url)
    headers = dict(outer.headers)
    headers.pop("content-length", None)
    for name, value in (item.get("headers") or {}).items():
        headers[str(name).lower()] = str(value)
    body = item.get("body")
    raw = json.dumps(body).encode() if body is not None else b""
    return Request(
        str(item["method"]).upper(),
        GRAPH_PREFIX + unquote(parts.path),
        parse_qs(parts.query, keep_blank_values=True),
        headers,
        raw,
    )


def _answer(request_id: str, response: Response) -> dict[str, Any]:
    headers = {"Content-Type": response.content_type}
    headers.update({name: value for name, value in response.headers})
    answer: dict[str, Any] = {"id": request_id, "status": response.status, "headers": headers}
    if response.body:
        try:
            answer["body"] = json.loads(response.body)
        except ValueError:
            answer["body"] = response.body.decode("utf-8", "replace")
    return answer
