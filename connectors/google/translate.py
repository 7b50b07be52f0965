"""Classifying every Google failure once, at the boundary, into keepwarm.connectors.errors."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import httplib2
from google.auth.exceptions import RefreshError, TransportError
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from keepwarm.connectors.errors import (
    AuthExpired,
    CursorExpired,
    PermanentProviderError,
    ProviderUnavailable,
    RateLimited,
)

__all__ = [
    "HTTP_TIMEOUT",
    "authorized_service",
    "calling_google",
    "classify",
    "classify_http_error",
]

T = TypeVar("T")
# Seconds a socket may wait for Google before the call fails as ProviderUnavailable (and the
# sync is retried). Google answers a small metadata batch in well under a second; without a
# timeout a stalled connection would hold a worker thread until the actor's time limit, which
# cannot interrupt a blocking read.
HTTP_TIMEOUT = 30.0
_RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"}


def _reasons(error: HttpError) -> set[str]:
    try:
        body = json.loads(error.content.decode("utf-8", "replace"))
    except (ValueError, AttributeError):
        return set()
    details = body.get("error", {}) if isinstance(body, dict) else {}
    errors = details.get("errors", []) if isinstance(details, dict) else []
    return {str(e.get("reason")) for e in errors if isinstance(e, dict)}


def _retry_after(error: HttpError) -> float:
    value = error.resp.get("retry-after") if error.resp is not None else None
    try:
        return max(float(value), 0.0) if value is not None else 1.0
    except ValueError:
        return 1.0


def classify_http_error(error: HttpError, *, cursor_statuses: tuple[int, ...] = ()) -> Exception:
    """The keepwarm.connectors.errors exception that says what to do about `error`."""
    status = int(error.resp.status) if error.resp is not None else 0
    reasons = _reasons(error)
    message = f"Google answered {status}: {', '.join(sorted(reasons)) or error.reason}"
    if status in cursor_statuses:
        return CursorExpired(message)
    if status == 429 or (status == 403 and reasons & _RATE_REASONS):
        return RateLimited(message, _retry_after(error))
    if status == 401:
        return AuthExpired(message)
    if status >= 500 or status in (408,):
        return ProviderUnavailable(message)
    return PermanentProviderError(message)


def classify(error: Exception, *, cursor_statuses: tuple[int, ...] = ()) -> Exception:
    """The keepwarm.connectors.errors exception for any failure of a Google call, or `error` itself
    when it is none of Google's (a bug of ours must surface as it is).

    A socket timeout (`TimeoutError`, which `socket.timeout` is), a refused or reset connection,
    httplib2's own errors and a refresh google-auth flags `retryable` (the token endpoint
    answered 5xx) are transient: ProviderUnavailable, retried with backoff. Any other refused
    refresh means the grant is dead: AuthExpired.
    """
    if isinstance(error, HttpError):
        return classify_http_error(error, cursor_statuses=cursor_statuses)
    if isinstance(error, RefreshError):
        detail = error.args[0] if error.args else error
        if error.retryable:
            # google-auth already tried three times and says a later try may work (a 5xx or
            # a timeout at the token endpoint): the grant is fine, the endpoint is not.
            return ProviderUnavailable(f"Google could not refresh the grant for now: {detail}")
        return AuthExpired(f"Google refused the grant: {detail}")
    if isinstance(error, (TransportError, httplib2.HttpLib2Error, OSError)):
        # OSError covers TimeoutError and ConnectionError.
        what = "timed out" if isinstance(error, TimeoutError) else "unreachable"
        return ProviderUnavailable(f"Google {what}: {type(error).__name__}: {error}")
    return error


@contextmanager
def calling_google(*, cursor_statuses: tuple[int, ...] = ()) -> Iterator[None]:
    """Run Google calls, translating their failures into keepwarm.connectors.errors (chained)."""
    try:
        yield
    except (HttpError, RefreshError, TransportError, httplib2.HttpLib2Error, OSError) as exc:
        raise classify(exc, cursor_statuses=cursor_statuses) from exc


def execute(request: Any, *, cursor_statuses: tuple[int, ...] = ()) -> Any:
    """`request.execute()` with failures translated."""
    with calling_google(cursor_statuses=cursor_statuses):
        return request.execute(num_retries=0)


def call(fn: Callable[[], T]) -> T:
    """Any Google call with failures translated."""
    with calling_google():
        return fn()


def authorized_service(
    name: str, version: str, credentials: Any, api_endpoint: str | None, timeout: float
) -> tuple[Any, AuthorizedHttp]:
    """A googleapiclient service on the bundled discovery document, and its HTTP (to close).

    `api_endpoint` points the service elsewhere (the sandbox); None keeps Google's.
    """
    http = AuthorizedHttp(credentials, http=httplib2.Http(timeout=timeout))
    options = {"api_endpoint": api_endpoint} if api_endpoint else None
    service = build(
        name,
        version,
        http=http,
        client_options=options,
        static_discovery=True,
        cache_discovery=False,
    )
    return service, http
