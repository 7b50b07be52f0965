"""The sandbox as one function, `SandboxApp.handle(Request) -> Response`: routing, faults,
authentication and quota in front of the OAuth, Gmail, Calendar and batch handlers.

Order for an API call: a queued fault first; then the access token (401); then the method
itself (its own 4xx errors cost nothing); then quota, so a refused call is not served and not
charged. All state is touched under one lock; delays are slept outside it.
"""

from __future__ import annotations

import threading
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from keepwarm.connectors.sandbox.google import admin, batch, calendar, gmail, oauth
from keepwarm.connectors.sandbox.google.errors import (
    ApiError,
    OAuthError,
    not_found,
    unauthenticated,
)
from keepwarm.connectors.sandbox.google.events import EventStore
from keepwarm.connectors.sandbox.google.faults import Fault, FaultKind, FaultQueue
from keepwarm.connectors.sandbox.google.grants import Grants
from keepwarm.connectors.sandbox.google.mailbox import Mailbox
from keepwarm.connectors.sandbox.google.quota import QuotaMeter, rate_limited
from keepwarm.connectors.sandbox.google.scopes import OPENID, USERINFO_EMAIL, require
from keepwarm.connectors.sandbox.google.wire import Caller, Request, Response

__all__ = ["SandboxApp", "State"]

_USERINFO = ("/oauth2/v3/userinfo",)


@dataclass
class State:
    """Everything the sandbox holds for its one user."""

    mailbox: Mailbox
    events: EventStore
    grants: Grants
    quota: QuotaMeter
    faults: FaultQueue = field(default_factory=FaultQueue)
    lock: threading.RLock = field(default_factory=threading.RLock)
    extra_redirects: tuple[str, ...] = ()


class SandboxApp:
    """Answers requests against a `State`; `controls` serves the /_sandbox admin endpoints."""

    def __init__(
        self, state: State, controls: admin.Controls, *, sleep: Callable[[float], object]
    ) -> None:
        self.state = state
        self.controls = controls
        self._sleep = sleep
        self.seen: deque[str] = deque(maxlen=10_000)  # "METHOD /path" of outer requests
        self.internal_errors: list[str] = []

    def handle(self, request: Request) -> Response:
        """Answer one outer HTTP request. Never raises: a bug becomes a 500 and is kept in
        `internal_errors`."""
        with self.state.lock:
            self.seen.append(f"{request.method} {request.path}")
        try:
            if request.path.startswith(admin.PREFIX):
                return admin.handle(request, self.controls)
            return self._dispatch(request)
        except Exception:  # a sandbox bug must reach the test, not kill the server thread
            self.internal_errors.append(traceback.format_exc())
            return ApiError(500, "Internal error encountered.", "backendError").response()

    def _dispatch(self, request: Request) -> Response:
        with self.state.lock:
            fault = self.state.faults.take(request.path)
        if fault is not None:
            if fault.kind is FaultKind.DELAY:
                self._sleep(fault.seconds)
            else:
                return _fault_response(fault, request.path)
        path = request.path
        if path in oauth.AUTH_PATHS:
            with self.state.lock:
                return oauth.authorize(
                    request, self.state.grants, extra_redirects=self.state.extra_redirects
                )
        if path in oauth.TOKEN_PATHS:
            with self.state.lock:
                return oauth.token(request, self.state.grants)
        if path in oauth.REVOKE_PATHS:
            with self.state.lock:
                return oauth.revoke(request, self.state.grants)
        if path.rstrip("/") in batch.BATCH_LIMITS and request.method == "POST":
            try:
                return batch.run_batch(request, self._dispatch)
            except ApiError as exc:
                return exc.response()
        with self.state.lock:
            return self._api(request)

    def _api(self, request: Request) -> Response:
        gmail_route = gmail.match(request)
        calendar_route = calendar.match(request) if gmail_route is None else None
        if gmail_route is None and calendar_route is None and request.path not in _USERINFO:
            return not_found(with_status=False).response()
        try:
            caller = self._caller(request)
            if gmail_route is not None:
                method, gmail_handler, item = gmail_route
                answer = gmail_handler(request, caller, self.state.mailbox, item)
            elif calendar_route is not None:
                method, calendar_handler, args = calendar_route
                answer = calendar_handler(request, caller, self.state.events, args)
            else:
                require(caller.scopes, frozenset({OPENID, USERINFO_EMAIL}))
                return oauth.userinfo(caller)
            self.state.quota.charge(caller.user, method)
        except ApiError as exc:
            return exc.response()
        return answer

    def _caller(self, request: Request) -> Caller:
        header = request.header("authorization") or ""
        token = header[7:].strip() if header[:7].lower() == "bearer " else None
        token = token or request.param("access_token")
        if not token:
            raise unauthenticated(missing=True)
        access = self.state.grants.authenticate(token)
        if access is None:
            raise unauthenticated(missing=False)
        return Caller(access.grant.user, access.scopes)


def _fault_response(fault: Fault, path: str) -> Response:
    """An injected failure, in the error shape of the endpoint it hits."""
    api = not path.startswith(oauth.TOKEN_PATHS + oauth.REVOKE_PATHS + oauth.AUTH_PATHS)
    if fault.kind is FaultKind.RATE_LIMIT:
        if api:
            limited = rate_limited(fault.retry_after, gmail=not path.startswith("/calendar/"))
            return limited.response()
        retry = (("Retry-After", str(fault.retry_after)),)
        body = OAuthError("rate_limit_exceeded", "Rate limit exceeded", status=429).response()
        return Response(429, body.body, body.content_type, retry)
    if api:
        if fault.status == 500:
            return ApiError(500, "Internal error encountered.", "backendError").response()
        return ApiError(503, "The service is currently unavailable.", "backendError").response()
    name = "internal_failure" if fault.status == 500 else "temporarily_unavailable"
    return OAuthError(name, "Injected failure", status=fault.status).response()
