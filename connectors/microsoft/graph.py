"""Graph over httpx: every call authenticated, paced, throttled and classified once.

Each request first takes a place among the mailbox's concurrent requests (`slot`: Outlook
allows 4 per app and mailbox, across every worker) and spends one request of the shared budget
(`spend`: Outlook allows 10,000 per 10 minutes). A 429 (or a 503 that says when to come back)
is waited out for its `Retry-After`, which may be fractional, and the request sent again: a
wait the provider asked for is not a failure and costs no retry. Waits longer than `max_wait`
in all are handed up as RateLimited, for the worker to come back later. A 401 gets one forced
token refresh. Everything else is classified into keepwarm.connectors.errors::

    401 after a refresh, 403    AuthExpired: the grant no longer covers the mailbox
    410, SyncStateNotFound      CursorExpired (on delta links; elsewhere permanent)
    408, 5xx, timeouts, resets  ProviderUnavailable
    other 4xx                   PermanentProviderError
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from keepwarm.connectors.errors import (
    AuthExpired,
    CursorExpired,
    PermanentProviderError,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
)

__all__ = ["GRAPH_TIMEOUT", "AccessTokens", "GraphClient", "classify_graph_error"]

# Seconds a Graph call may wait for its answer before it fails as ProviderUnavailable.
GRAPH_TIMEOUT = 30.0
_CURSOR_CODES = frozenset({"SyncStateNotFound", "SyncStateInvalid", "resyncRequired"})
_DEFAULT_WAIT = 2.0  # a 429 without Retry-After


class AccessTokens(Protocol):
    """Where access tokens come from (auth.TokenSource)."""

    def token(self) -> str: ...
    def refresh(self) -> str: ...


def classify_graph_error(status: int, body: Any, *, cursor: bool, what: str) -> ProviderError:
    """The connectors.errors exception for a Graph error answer (not 429: that is waited)."""
    error = body.get("error") if isinstance(body, dict) else None
    code = str(error.get("code")) if isinstance(error, dict) else ""
    text = str(error.get("message")) if isinstance(error, dict) else ""
    message = f"{what}: Graph answered {status} {code}".rstrip() + (f" ({text})" if text else "")
    if cursor and (status == 410 or code in _CURSOR_CODES):
        return CursorExpired(message)
    if status in (401, 403):
        return AuthExpired(message)
    if status == 408 or status >= 500:
        return ProviderUnavailable(message)
    return PermanentProviderError(message)


def _retry_after(response: httpx.Response) -> float:
    value = response.headers.get("retry-after")
    try:
        return max(float(value), 0.0) if value is not None else _DEFAULT_WAIT
    except ValueError:
        return _DEFAULT_WAIT


class GraphClient:
    """GET requests and JSON batches against Graph v1.0 at `base` for one mailbox."""

    def __init__(
        self,
        base: str,
        tokens: AccessTokens,
        *,
        timeout: float = GRAPH_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        slot: Callable[[], AbstractContextManager[object]] = nullcontext,
        spend: Callable[[int], None] = lambda requests: None,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = 120.0,
    ) -> None:
        self.base = base.rstrip("/")
        self._origin = urlsplit(self.base)[:2]
        self._tokens = tokens
        self._http = httpx.Client(timeout=timeout, transport=transport)
        self._slot, self._spend, self._sleep = slot, spend, sleep
        self.max_wait = max_wait
        self.requests = 0  # sent, 429s included
        self.waited = 0.0  # seconds spent waiting out Retry-After

    def close(self) -> None:
        """Close the connections to Graph."""
        self._http.close()

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        prefer: str | None = None,
        cursor: bool = False,
    ) -> dict[str, Any]:
        """GET `url` (a path under the base, or a nextLink/deltaLink Graph gave) as JSON.

        `cursor` says the URL is a delta link, whose 410 means CursorExpired. Raises the
        connectors.errors exceptions (see the module docstring).
        """
        target = self._absolute(url)
        headers = {"Prefer": prefer} if prefer else {}
        response = self._send("GET", target, params=params, headers=headers)
        body = self._json(response)
        if response.status_code != 200 or not isinstance(body, dict):
            raise classify_graph_error(response.status_code, body, cursor=cursor, what=url[:80])
        return body

    def batch(self, requests: list[dict[str, Any]]) -> dict[str, tuple[int, Any]]:
        """Run up to 20 GETs in one JSON batch; {id: (status, body)}. Inner 429s are waited
        out and sent again like any other."""
        answers: dict[str, tuple[int, Any]] = {}
        pending = list(requests)
        waited = 0.0
        while pending:
            # Graph counts each inner request against the mailbox's limits.
            response = self._send(
                "POST", self.base + "/$batch", json={"requests": pending}, cost=len(pending)
            )
            body = self._json(response)
            if response.status_code != 200:
                raise classify_graph_error(response.status_code, body, cursor=False, what="$batch")
            retry: list[dict[str, Any]] = []
            wait = 0.0
            by_id = {str(item["id"]): item for item in pending}
            for inner in body.get("responses", []):
                status = int(inner.get("status", 0))
                if status == 429:
                    retry.append(by_id[str(inner["id"])])
                    headers = {k.lower(): v for k, v in (inner.get("headers") or {}).items()}
                    wait = max(wait, float(headers.get("retry-after", _DEFAULT_WAIT)))
                else:
                    answers[str(inner["id"])] = (status, inner.get("body"))
            if retry:
                waited = self._wait(wait, waited, "$batch")
            pending = retry
        return answers

    def _send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        cost: int = 1,
    ) -> httpx.Response:
        refreshed = False
        waited = 0.0
        while True:
            token = self._tokens.token()
            response = self._once(method, url, params, headers, json, token, cost)
            if response.status_code == 401 and not refreshed:
                self._tokens.refresh()
                refreshed = True
                continue
            if response.status_code == 429 or (
                response.status_code == 503 and "retry-after" in response.headers
            ):
                waited = self._wait(_retry_after(response), waited, url[:80])
                continue
            return response

    def _once(
        self,
        method: str,
        url: str,
        params: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
        json: Any,
        token: str,
        cost: int,
    ) -> httpx.Response:
        self._spend(cost)
        self.requests += cost
        sent = {**(headers or {}), "Authorization": f"Bearer {token}"}
        with self._slot():
            try:
                return self._http.request(method, url, params=params, headers=sent, json=json)
            except httpx.TimeoutException as exc:
                raise ProviderUnavailable(f"Graph timed out: {url[:80]}") from exc
            except httpx.TransportError as exc:
                raise ProviderUnavailable(f"Graph unreachable: {type(exc).__name__}") from exc

    def _wait(self, seconds: float, waited: float, what: str) -> float:
        """Wait out a Retry-After; RateLimited when the waits would exceed `max_wait`."""
        if waited + seconds > self.max_wait:
            raise RateLimited(f"{what}: Graph asks to wait {seconds:g} s", seconds)
        self._sleep(seconds)
        self.waited += seconds
        return waited + seconds

    def _absolute(self, url: str) -> str:
        if url.startswith("/"):
            return self.base + url
        if urlsplit(url)[:2] != self._origin:
            # A link elsewhere would carry the user's token there.
            raise PermanentProviderError(f"Graph gave a link to another host: {url[:80]}")
        return url

    @staticmethod
    def _json(response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            if response.status_code == 200:
                raise ProviderUnavailable(
                    "Graph answered 200 with a body that is not JSON"
                ) from exc
            return None
