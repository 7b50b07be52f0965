"""Google's error bodies, raised by handlers as exceptions and rendered once by the app.

API errors have the shape `{"error": {"code", "message", "errors": [{"message", "domain",
"reason", ...}], "status"}}`; the token endpoint answers `{"error", "error_description"}`.
"""

from __future__ import annotations

from collections.abc import Sequence

from keepwarm.connectors.sandbox.google.wire import Response

__all__ = [
    "ApiError",
    "OAuthError",
    "bad_request",
    "forbidden",
    "not_found",
    "unauthenticated",
]

# Google's canonical status names; Calendar's older error bodies leave `status` out.
_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


class ApiError(Exception):
    """An error answer of a Gmail or Calendar method, in Google's JSON error shape."""

    def __init__(
        self,
        code: int,
        message: str,
        reason: str,
        *,
        domain: str = "global",
        detail: str | None = None,
        location: tuple[str, str] | None = None,
        with_status: bool = True,
        headers: Sequence[tuple[str, str]] = (),
    ) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message
        self.reason = reason
        self.domain = domain
        self.detail = detail if detail is not None else message
        self.location = location  # (locationType, location), e.g. ("header", "Authorization")
        self.with_status = with_status
        self.headers = tuple(headers)

    def body(self) -> dict[str, object]:
        """The JSON body Google sends for this error."""
        item: dict[str, object] = {
            "message": self.detail,
            "domain": self.domain,
            "reason": self.reason,
        }
        if self.location is not None:
            item["locationType"], item["location"] = self.location
        error: dict[str, object] = {"code": self.code, "message": self.message, "errors": [item]}
        if self.with_status and self.code in _STATUS:
            error["status"] = _STATUS[self.code]
        return {"error": error}

    def response(self) -> Response:
        """The HTTP response carrying this error."""
        return Response.json(self.code, self.body(), self.headers)


class OAuthError(Exception):
    """An error answer of the token or revocation endpoint (RFC 6749 section 5.2)."""

    def __init__(self, error: str, description: str, *, status: int = 400) -> None:
        super().__init__(error, description)
        self.error = error
        self.description = description
        self.status = status

    def response(self) -> Response:
        """`{"error", "error_description"}` with the status Google uses."""
        body = {"error": self.error, "error_description": self.description}
        return Response.json(self.status, body)


def not_found(*, with_status: bool = True) -> ApiError:
    """404 for an id or path that does not exist (also Gmail's answer to an old historyId)."""
    message = "Requested entity was not found." if with_status else "Not Found"
    return ApiError(404, message, "notFound", with_status=with_status)


def bad_request(message: str, *, reason: str = "invalidArgument") -> ApiError:
    """400 for a malformed parameter."""
    return ApiError(400, message, reason)


def forbidden(message: str) -> ApiError:
    """403 `forbidden`, as Gmail answers what the granted scope does not allow."""
    return ApiError(403, message, "forbidden")


def unauthenticated(*, missing: bool) -> ApiError:
    """401 for a missing, unknown, expired or revoked access token."""
    header = (("WWW-Authenticate", 'Bearer realm="https://accounts.google.com/"'),)
    if missing:
        return ApiError(
            401,
            "Request is missing required authentication credential. Expected OAuth 2 access "
            "token, login cookie or other valid authentication credential.",
            "required",
            detail="Login Required.",
            location=("header", "Authorization"),
            headers=header,
        )
    return ApiError(
        401,
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
        "cookie or other valid authentication credential.",
        "authError",
        detail="Invalid Credentials",
        location=("header", "Authorization"),
        headers=((header[0][0], header[0][1] + ', error="invalid_token"'),),
    )
