"""The web app's one error boundary: every error becomes a plain page, or under /api/ a JSON
body with a stable `code` and the `field` at fault; never a traceback.

The statuses are those services.core.errors draws. Unknown errors are logged by the server
and answered 500 "internal_error".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from keepwarm.connectors.errors import (
    ConnectorError,
    ConsentRefused,
    ProviderError,
    ProviderUnavailable,
)
from keepwarm.services.accounts.sessions import CsrfFailed
from keepwarm.services.accounts.signin import SignUpRefused
from keepwarm.services.core.crypto import TokenKeyError
from keepwarm.services.core.errors import (
    AppError,
    Conflict,
    InvalidInput,
    NotFound,
    NotSignedIn,
    PermissionDenied,
)
from keepwarm.services.notify.links import LinkError, LinkExpired, LinkTargetGone, LinkUsed
from keepwarm.services.web.pages import message_page

__all__ = ["CODES", "error_body", "install_error_handlers", "is_api"]

# The first class an error is an instance of decides its status, code and page headline.
CODES: tuple[tuple[type[Exception], int, str, str], ...] = (
    (LinkExpired, 410, "link_expired", "Link expired"),
    (LinkUsed, 409, "link_used", "Already done"),
    (LinkTargetGone, 404, "link_target_gone", "Nothing to do here"),
    (LinkError, 400, "link_invalid", "Link not valid"),
    (InvalidInput, 400, "invalid_input", "That did not work"),
    (NotFound, 404, "not_found", "Not found"),
    (Conflict, 409, "conflict", "That did not work"),
    (NotSignedIn, 401, "not_signed_in", "Please sign in"),
    (SignUpRefused, 403, "sign_up_refused", "Not on this server"),
    (CsrfFailed, 403, "csrf_failed", "That form has expired"),
    (PermissionDenied, 403, "forbidden", "Not allowed"),
    (TokenKeyError, 500, "server_misconfigured", "Something went wrong"),
    (AppError, 400, "invalid_input", "That did not work"),
    (ConsentRefused, 400, "consent_refused", "Sign-in did not finish"),
    (ProviderUnavailable, 503, "provider_unavailable", "The provider did not answer"),
    (ProviderError, 502, "provider_error", "The provider refused"),
    (ConnectorError, 400, "invalid_input", "That did not work"),
)
_HTTP = {
    401: ("not_signed_in", "Please sign in"),
    404: ("not_found", "Page not found"),
    405: ("method_not_allowed", "Not allowed here"),
}


def is_api(request: Request) -> bool:
    """Under /api/, or the dashboard's script asking for JSON: errors are JSON."""
    accept = request.headers.get("accept", "")
    wants_json = "application/json" in accept and "text/html" not in accept
    return request.url.path.startswith("/api/") or wants_json


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    """The JSON every API error has."""
    return {"error": {"code": code, "message": message, "field": field}}


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")) if text else ""


def _field(loc: Sequence[Any]) -> str:
    """ "query.limit" -> "limit", ("body", "excluded", 0) -> "excluded[0]"; a field with no
    name of its own is named by where it was ("body")."""
    parts = list(loc)
    where = "request"
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        where = str(parts.pop(0))
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out if out.strip(".") else where


def install_error_handlers(app: FastAPI) -> None:
    """Translate every error the app can meet, once."""

    @app.exception_handler(AppError)
    @app.exception_handler(ConnectorError)
    def known(request: Request, exc: Exception) -> Response:
        status, code, headline = next((s, c, h) for k, s, c, h in CODES if isinstance(exc, k))
        field = exc.field if isinstance(exc, InvalidInput) else None
        if is_api(request):
            return JSONResponse(error_body(code, str(exc), field), status_code=status)
        if isinstance(exc, NotSignedIn) and request.method in ("GET", "HEAD"):
            return RedirectResponse("/signin", status_code=303)
        return message_page(status, headline, _sentence(str(exc)))

    @app.exception_handler(HTTPException)
    def http_error(request: Request, exc: HTTPException) -> Response:
        code, headline = _HTTP.get(exc.status_code, ("invalid_input", "That did not work"))
        if is_api(request):
            # The framework's own 400 is a body it could not parse.
            field = "body" if exc.status_code == 400 else None
            response: Response = JSONResponse(
                error_body(code, str(exc.detail), field), status_code=exc.status_code
            )
        else:
            response = message_page(exc.status_code, headline)
        response.headers.update(exc.headers or {})  # e.g. Allow on a 405
        return response

    @app.exception_handler(RequestValidationError)
    def bad_request(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "bad input"}
        field = _field(first.get("loc", ())) or None
        message = f"{field}: {first.get('msg', 'bad input')}" if field else "bad input"
        if is_api(request):
            return JSONResponse(error_body("invalid_input", message, field), status_code=400)
        return message_page(
            400, "That did not work", _sentence(f"The form could not be read ({message})")
        )

    @app.exception_handler(Exception)
    def internal_error(request: Request, _exc: Exception) -> Response:
        # The traceback goes to the server's log (the framework re-raises it), never out.
        if is_api(request):
            return JSONResponse(
                error_body("internal_error", "something went wrong; try again in a while"),
                status_code=500,
            )
        return message_page(500, "Something went wrong", "Please try again in a while.")
