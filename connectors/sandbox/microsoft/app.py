"""The sandbox as one function, `SandboxApp.handle(Request) -> Response`: routing, faults,
authentication and Outlook's limits in front of the identity, mail, calendar and batch handlers.

Order for a Graph request: the access token (401); then a place under the mailbox's limits
(429: four at once, 10,000 per 10 minutes), held until the answer is written; then a queued
fault (a delay is slept holding that place, as a slow Exchange holds it); then the operation.
State is touched under one lock; delays are slept outside it.
"""

from __future__ import annotations

import threading
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from keepwarm.connectors.sandbox.google.wire import Request, Response
from keepwarm.connectors.sandbox.microsoft import admin, batch, calendar, identity, mail
from keepwarm.connectors.sandbox.microsoft.errors import (
    AadError,
    GraphError,
    bad_request,
    throttled,
    unauthenticated,
)
from keepwarm.connectors.sandbox.microsoft.events import Calendar
from keepwarm.connectors.sandbox.microsoft.faults import Fault, FaultKind, FaultQueue
from keepwarm.connectors.sandbox.microsoft.grants import Grants
from keepwarm.connectors.sandbox.microsoft.identity import Directory
from keepwarm.connectors.sandbox.microsoft.mail import Caller
from keepwarm.connectors.sandbox.microsoft.mailbox import Mailbox
from keepwarm.connectors.sandbox.microsoft.routes import GRAPH_PREFIX, parse
from keepwarm.connectors.sandbox.microsoft.throttle import Throttle

__all__ = ["SandboxApp", "State"]


@dataclass
class State:
    """Everything the sandbox holds for its one user."""

    directory: Directory
    mailbox: Mailbox
    calendar: Calendar
    grants: Grants
    throttle: Throttle
    faults: FaultQueue = field(default_factory=FaultQueue)
    lock: threading.RLock = field(default_factory=threading.RLock)
    extra_redirects: tuple[str, ...] = ()
    selected: set[str] = field(default_factory=set)  # every $select field ever asked for


class SandboxApp:
    """Answers requests against a `State`; `controls` serves the /_sandbox admin endpoints."""

    def __init__(
        self, state: State, controls: admin.Controls, *, sleep: Callable[[float], object]
    ) -> None:
        self.state = state
        self.controls = controls
        self._sleep = sleep
        self.seen: deque[str] = deque(maxlen=10_000)  # "METHOD /path?query" of requests
        self.internal_errors: list[str] = []

    def handle(self, request: Request) -> Response:
        """Answer one outer HTTP request. Never raises: a bug becomes a 500 and is kept in
        `internal_errors`."""
        try:
            if request.path.startswith(admin.PREFIX):
                return admin.handle(request, self.controls)
            self._note(request)
            if request.path == batch.BATCH_PATH and request.method == "POST":
                try:
                    return batch.run_batch(request, self._graph)
                except GraphError as exc:
                    return exc.response()
            if request.path.startswith(GRAPH_PREFIX + "/"):
                return self._graph(request)
            return self._identity(request)
        except Exception:  # a sandbox bug must reach the test, not kill the server thread
            self.internal_errors.append(traceback.format_exc())
            return GraphError(500, "InternalServerError", "Internal sandbox error.").response()

    def _note(self, request: Request) -> None:
        query = "&".join(f"{k}={v}" for k, vs in request.query.items() for v in vs)
        with self.state.lock:
            self.seen.append(f"{request.method} {request.path}" + (f"?{query}" if query else ""))

    def _identity(self, request: Request) -> Response:
        found = identity.match(request.path)
        if found is None:
            return GraphError(404, "NotFound", f"No such endpoint: {request.path}").response()
        with self.state.lock:
            fault = self.state.faults.take(request.path)
        if fault is not None:
            if fault.kind is FaultKind.DELAY:
                self._sleep(fault.seconds)
            else:
                return _identity_fault(fault)
        tenant, endpoint = found
        state = self.state
        with state.lock:
            if endpoint.endswith("openid-configuration"):
                return identity.discovery(request, state.directory, tenant)
            if endpoint.endswith("keys"):
                return identity.keys(state.directory, tenant)
            if endpoint.endswith("authorize"):
                return identity.authorize(
                    request,
                    state.grants,
                    state.directory,
                    tenant,
                    extra_redirects=state.extra_redirects,
                )
            return identity.token(request, state.grants, state.directory, tenant)

    def _graph(self, request: Request) -> Response:
        """One Graph request (outer, or inner to a batch)."""
        state = self.state
        try:
            caller = self._caller(request)
            path = request.path[len(GRAPH_PREFIX) :]
            target = parse(path, user=caller.user, user_id=caller.user_id)
            mail_route = mail.match(target) if request.method == "GET" else None
            calendar_route = (
                calendar.match(target) if request.method == "GET" and not mail_route else None
            )
            route = mail_route or calendar_route
            if route is None:
                segment = path.strip("/").split("/")[-1] or path
                raise bad_request(f"Resource not found for the segment '{segment}'.")
            operation = route[0]
            with state.throttle.admit((caller.client_id, caller.user), operation):
                with state.lock:
                    fault = state.faults.take(request.path)
                if fault is not None:
                    if fault.kind is FaultKind.DELAY:
                        self._sleep(fault.seconds)
                    else:
                        return _graph_fault(fault)
                with state.lock:
                    selected = request.param("$select")
                    if selected:
                        state.selected.update(s.strip() for s in selected.split(","))
                    if mail_route is not None:
                        return mail_route[1](request, caller, state.mailbox, target.keys)
                    assert calendar_route is not None
                    return calendar_route[1](request, caller, state.calendar, target.keys)
        except GraphError as exc:
            return exc.response()

    def _caller(self, request: Request) -> Caller:
        header = request.header("authorization") or ""
        token = header[7:].strip() if header[:7].lower() == "bearer " else ""
        if not token:
            raise unauthenticated(missing=True)
        with self.state.lock:
            access = self.state.grants.authenticate(token)
        if access is None:
            raise unauthenticated(missing=False)
        directory = self.state.directory
        return Caller(
            directory.user,
            directory.object_id,
            directory.name,
            access.grant.client_id,
            access.scopes,
        )


def _graph_fault(fault: Fault) -> Response:
    """An injected failure in Graph's own shape."""
    if fault.kind is FaultKind.RATE_LIMIT:
        return throttled(fault.retry_after, concurrency=False).response()
    messages = {
        500: ("InternalServerError", "An internal server error occurred."),
        502: ("BadGateway", "The server received an invalid response from an upstream server."),
        503: ("ServiceUnavailable", "The service is temporarily unavailable."),
        504: ("GatewayTimeout", "The server timed out waiting for a response."),
    }
    code, message = messages[fault.status]
    headers = (("Retry-After", "1"),) if fault.status == 503 else ()
    return GraphError(fault.status, code, message, headers=headers).response()


def _identity_fault(fault: Fault) -> Response:
    """An injected failure of the identity platform, in its error shape."""
    if fault.kind is FaultKind.RATE_LIMIT:
        return AadError(
            "temporarily_unavailable",
            50196,
            "The server encountered a client request loop.",
            status=429,
            headers=(("Retry-After", str(max(1, round(fault.retry_after)))),),
        ).response()
    return AadError(
        "temporarily_unavailable",
        90033,
        "A transient error has occurred. Please try again.",
        status=fault.status,
    ).response()
