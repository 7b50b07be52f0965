"""Microsoft's error bodies, raised by handlers as exceptions and rendered once by the app.

Graph answers `{"error": {"code", "message", "innerError": {"date", "request-id",
"client-request-id"}}}`; the identity platform's token endpoint answers `{"error",
"error_description": "AADSTS<n>: ...", "error_codes": [n], "timestamp", "trace_id",
"correlation_id", "error_uri"}`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from keepwarm.connectors.sandbox.google.wire import Response
from keepwarm.connectors.sandbox.microsoft.wire import json_response

__all__ = [
    "AadError",
    "GraphError",
    "access_denied",
    "bad_request",
    "not_found",
    "sync_state_not_found",
    "throttled",
    "unauthenticated",
]


class GraphError(Exception):
    """An error answer of a Graph request."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: Sequence[tuple[str, str]] = (),
        inner_code: str | None = None,
    ) -> None:
        super().__init__(status, code, message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = tuple(headers)
        self.inner_code = inner_code

    def body(self) -> dict[str, object]:
        """The JSON body Graph sends for this error."""
        request_id = str(uuid.uuid4())
        inner: dict[str, object] = {}
        if self.inner_code is not None:
            inner["code"] = self.inner_code
        inner["date"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        inner["request-id"] = request_id
        inner["client-request-id"] = request_id
        if self.inner_code is not None:
            inner["status"] = str(self.status)
        return {"error": {"code": self.code, "message": self.message, "innerError": inner}}

    def response(self) -> Response:
        """The HTTP response carrying this error."""
        return json_response(self.status, self.body(), self.headers)


class AadError(Exception):
    """An error of the identity platform's token endpoint (RFC 6749 5.2 plus AADSTS codes)."""

    def __init__(
        self,
        error: str,
        code: int,
        text: str,
        *,
        status: int = 400,
        headers: Sequence[tuple[str, str]] = (),
    ) -> None:
        super().__init__(error, code, text)
        self.error = error
        self.code = code
        self.text = text
        self.status = status
        self.headers = tuple(headers)

    @property
    def description(self) -> str:
        """`AADSTS<code>: <text>` with the trace lines the real service appends."""
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        return (
            f"AADSTS{self.code}: {self.text} Trace ID: {uuid.uuid4()} "
            f"Correlation ID: {uuid.uuid4()} Timestamp: {now}"
        )

    def body(self) -> dict[str, object]:
        """The token endpoint's JSON error body."""
        return {
            "error": self.error,
            "error_description": self.description,
            "error_codes": [self.code],
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ"),
            "trace_id": str(uuid.uuid4()),
            "correlation_id": str(uuid.uuid4()),
            "error_uri": f"https://login.microsoftonline.com/error?code={self.code}",
        }

    def response(self) -> Response:
        """The HTTP response carrying this error."""
        return json_response(self.status, self.body(), self.headers, odata=False)


def bad_request(message: str, code: str = "BadRequest") -> GraphError:
    """400 for a malformed request."""
    return GraphError(400, code, message)


def not_found(message: str = "The specified object was not found in the store.") -> GraphError:
    """404 `ErrorItemNotFound`, as Outlook answers an unknown folder or item id."""
    return GraphError(404, "ErrorItemNotFound", message)


def access_denied(*, directory: bool = False) -> GraphError:
    """403 for a token without the permission the resource needs."""
    if directory:
        return GraphError(
            403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
        )
    return GraphError(
        403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."
    )


def unauthenticated(*, missing: bool) -> GraphError:
    """401 `InvalidAuthenticationToken` for a missing, unknown, expired or revoked token."""
    header = (
        (
            "WWW-Authenticate",
            'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/'
            'oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"',
        ),
    )
    message = (
        "Access token is empty." if missing else "Access token has expired or is not yet valid."
    )
    return GraphError(401, "InvalidAuthenticationToken", message, headers=header)


def throttled(retry_after: float, *, concurrency: bool) -> GraphError:
    """429 with `Retry-After` (seconds, possibly fractional, as Graph sends them).

    Over the 4-concurrent-requests limit Outlook names its MailboxConcurrency limit; over the
    request rate it sends the generic throttling body.
    """
    header = (("Retry-After", format_seconds(retry_after)),)
    if concurrency:
        return GraphError(
            429,
            "ApplicationThrottled",
            "Application is over its MailboxConcurrency limit.",
            headers=header,
        )
    return GraphError(
        429, "TooManyRequests", "Please retry again later.", headers=header, inner_code="429"
    )


def sync_state_not_found(generation: int, location: str) -> GraphError:
    """410 for a delta token Outlook no longer holds; `Location` is the round's first URL."""
    return GraphError(
        410,
        "SyncStateNotFound",
        f"The sync state generation is not found; generation={generation};",
        headers=(("Location", location),),
    )


def format_seconds(seconds: float) -> str:
    """`Retry-After` as Graph writes it: whole seconds as an integer, else up to 3 decimals."""
    seconds = max(seconds, 0.001)
    if abs(seconds - round(seconds)) < 1e-9:
        return str(round(seconds))
    return f"{seconds:.3f}".rstrip("0").rstrip(".")
