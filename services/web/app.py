"""The web app: sign-in, the dashboard, the REST API (/api/v1) and the email links' pages.

    /signin, /auth/..., /signout        services.web.auth
    /queue, /dormant, /contacts, /intros services.web.dashboard
    /accounts, /settings, /export, /delete services.web.account_pages
    /api/v1/...  (OpenAPI: /api/openapi.json, reference: /api/docs)   services.web.api
    /a/{token}, /u/{token}              services.web.links (the one-click links in emails)
    /healthz                            {"status": "ok"} when the database answers

Errors are translated once, in services.web.errors: a plain page, or JSON under /api/.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text as sql
from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from keepwarm.services.core.db import make_session_factory
from keepwarm.services.core.jobs import JobSink
from keepwarm.services.notify.links import LinkSigner
from keepwarm.services.runtime import Runtime
from keepwarm.services.web import account_pages, api, auth, dashboard, links
from keepwarm.services.web.context import WebContext
from keepwarm.services.web.errors import install_error_handlers
from keepwarm.services.web.pages import PRIVATE_HEADERS
from keepwarm.services.web.queue_cache import QueueCache

__all__ = ["create_app"]

log = logging.getLogger(__name__)


class _PrivateHeaders:
    """Put PRIVATE_HEADERS on every response that does not set its own (the framework's 404s
    and 405s included): nothing is cached, framed, indexed or sent on in a Referer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_private(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in PRIVATE_HEADERS.items():
                    if name.lower() == "cache-control" and scope["path"].startswith("/static/"):
                        headers[name] = "public, max-age=3600"
                    elif name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_private)


def create_app(
    runtime: Runtime,
    *,
    jobs: JobSink | None = None,
    sandboxes: Mapping[str, str] | None = None,
    signer: LinkSigner | None = None,
    local_signin: bool | None = None,
) -> FastAPI:
    """The web app over `runtime`.

    `jobs` takes the background jobs requests ask for once they commit (a new account's first
    sync); `sandboxes` points providers at local sandboxes by name; `signer` checks the email
    links (default: the runtime's); `local_signin` (default: embedded installs, when
    KEEPWARM_LOCAL_SIGNIN allows) lets a browser on this machine in as the CLI's one user.
    """
    settings = runtime.settings
    if local_signin is None:
        local_signin = settings.embedded and settings.local_signin
    ctx = WebContext(
        runtime,
        signer or runtime.link_signer(),
        jobs,
        dict(sandboxes or {}),
        local_signin,
        QueueCache(runtime.session_factory, settings.queue_cache_seconds, clock=runtime.clock),
        make_session_factory(runtime.engine.execution_options(isolation_level="AUTOCOMMIT")),
    )
    app = FastAPI(
        title="keepwarm",
        version="1",
        description=api.__doc__ or "",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.web = ctx
    app.add_middleware(_PrivateHeaders)
    install_error_handlers(app)
    app.include_router(auth.router)
    app.include_router(dashboard.router)
    app.include_router(account_pages.router)
    app.include_router(api.queue_router)
    app.include_router(api.router)
    app.include_router(links.router)
    app.mount("/static", StaticFiles(packages=[("keepwarm.services.web", "static")]), "static")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        try:
            with runtime.session_factory() as session:
                session.execute(sql("SELECT 1"))
        except SQLAlchemyError as exc:
            log.warning("healthz: the database does not answer: %s", exc)
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    def openapi() -> dict[str, Any]:
        # Bad input is 400 with our error body (services.web.errors), never FastAPI's 422.
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            for path in schema.get("paths", {}).values():
                for operation in path.values():
                    operation.get("responses", {}).pop("422", None)
                    # A bearer token, or the dashboard's own session cookie: neither alone is
                    # required by the document (without either the answer is 401).
                    if "security" in operation:
                        operation["security"] = [*operation["security"], {}]
            for name in ("HTTPValidationError", "ValidationError"):
                schema.get("components", {}).get("schemas", {}).pop(name, None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
