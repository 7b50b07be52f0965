"""What every request of the web app may use, and who is asking.

`WebContext` is built once by `create_app` from the runtime; `Visitor` is the signed-in user of
one request, found from the session cookie (pages, and the API from the dashboard's own script)
or from a personal API token (`Authorization: Bearer kw_...`, the API only). Every query a
route makes is scoped to `visitor.user_id`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from fastapi import Request
from sqlalchemy.orm import Session, sessionmaker

from keepwarm.services.accounts.sessions import OpenSession, check_csrf, load_session
from keepwarm.services.accounts.tokens import user_for_token
from keepwarm.services.core.errors import NotSignedIn
from keepwarm.services.core.jobs import JobSink, unit_of_work
from keepwarm.services.notify.links import LinkSigner
from keepwarm.services.runtime import Runtime
from keepwarm.services.web.queue_cache import QueueCache

__all__ = [
    "BAD_TOKEN",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "LOOPBACK",
    "Visitor",
    "WebContext",
    "bearer_secret",
    "context",
    "current_session",
    "require_csrf",
    "visitor",
]

BAD_TOKEN = "the API token is not valid (revoked or mistyped)"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
_SESSION_KEY = "keepwarm.session"
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class WebContext:
    """The collaborators of the web app.

    `jobs` receives the background jobs a request asks for (a first sync) once it commits;
    `sandboxes` points providers at local sandboxes (tests, demos); `local_signin` lets a
    browser on this machine open an embedded install as its one user.
    """

    runtime: Runtime
    signer: LinkSigner
    jobs: JobSink | None = None
    sandboxes: Mapping[str, str] = field(default_factory=dict)
    local_signin: bool = False
    stats: QueueCache | None = None
    reads: sessionmaker[Session] | None = None

    def read_session(self) -> Session:
        """A session for reads only, in autocommit mode: each statement is its own snapshot,
        and a request that only reads saves the BEGIN and ROLLBACK round trips."""
        return (self.reads or self.runtime.session_factory)()

    @property
    def cookie_name(self) -> str:
        # The __Host- prefix makes the browser refuse the cookie unless it is Secure, host-only
        # and for path /, so no sibling subdomain can plant or overwrite it.
        return "__Host-keepwarm" if self.runtime.settings.secure_cookies else "keepwarm_session"

    def now(self) -> datetime:
        return self.runtime.clock()

    def public_url(self, path: str) -> str:
        return self.runtime.settings.public_url.rstrip("/") + path


@dataclass(frozen=True, slots=True)
class Visitor:
    """Who a request is from: a user, through a session or an API token."""

    user_id: int
    session: OpenSession | None  # None: an API token


def context(request: Request) -> WebContext:
    ctx: WebContext = request.app.state.web
    return ctx


def current_session(request: Request) -> OpenSession | None:
    """The live session the request's cookie names (looked up once per request)."""
    if _SESSION_KEY not in request.scope:
        ctx = context(request)
        token = request.cookies.get(ctx.cookie_name)
        found = None
        if token:
            with ctx.read_session() as session:
                found = load_session(session, token, ctx.now())
        request.scope[_SESSION_KEY] = found
    found_session: OpenSession | None = request.scope[_SESSION_KEY]
    return found_session


def bearer_secret(request: Request) -> str | None:
    """The API token the request's Authorization header carries, if any."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def visitor(request: Request) -> Visitor:
    """The signed-in user; raises NotSignedIn. A request with a session must carry its CSRF
    token to change anything (a form field, or the X-CSRF-Token header from the page's
    script); a request with an API token carries no cookie for another site to ride on."""
    ctx = context(request)
    secret = bearer_secret(request)
    if secret is not None:
        with unit_of_work(ctx.runtime.session_factory) as uow:
            user_id = user_for_token(uow.session, secret, ctx.now())
        if user_id is None:
            raise NotSignedIn(BAD_TOKEN)
        return Visitor(user_id, None)
    found = current_session(request)
    if found is None or found.user_id is None:
        raise NotSignedIn("sign in first")
    if request.method in _UNSAFE and request.url.path.startswith("/api/"):
        check_csrf(found, request.headers.get(CSRF_HEADER))
    return Visitor(found.user_id, found)


def require_csrf(request: Request, given: str | None) -> OpenSession:
    """The request's session, once the form's CSRF field matches it; raises CsrfFailed."""
    found = current_session(request)
    check_csrf(found, given)
    assert found is not None
    return found
