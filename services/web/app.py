"""The web app behind the one-click links in emails: confirm on GET, act once on POST.

    GET  /a/{token}   what the link will do, and one button (a form for a note)
    POST /a/{token}   do it, once                       (409 "already done" the second time)
    GET  /u/{token}   unsubscribe: confirm
    POST /u/{token}   unsubscribe, RFC 8058 one-click   (200 again on a repeat: still unsubscribed)
    GET  /healthz     {"status": "ok"} when the database answers

The signed token is the only credential: no cookies, no sessions, no JavaScript. Errors are
translated here, at the boundary, into plain pages: an altered or foreign link 400, an expired
one 410, a used one 409, an unknown path 404; never a traceback.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import FastAPI, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import text as sql
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from keepwarm.services.core.clock import Clock
from keepwarm.services.core.errors import AppError, Conflict, InvalidInput, NotFound
from keepwarm.services.core.jobs import unit_of_work
from keepwarm.services.models import UsedLink
from keepwarm.services.notify.links import (
    LinkAction,
    LinkedTarget,
    LinkError,
    LinkExpired,
    LinkSigner,
    LinkUsed,
    apply_link,
    describe,
)
from keepwarm.services.reconnect.notes import MAX_NOTE_CHARS
from keepwarm.services.web.pages import (
    PRIVATE_HEADERS,
    already_done_page,
    confirm_page,
    done_page,
    message_page,
    note_page,
)

__all__ = ["create_app"]

log = logging.getLogger(__name__)

_UNSUBSCRIBE = frozenset({LinkAction.UNSUBSCRIBE_DIGEST, LinkAction.UNSUBSCRIBE_PROMPTS})

# The first class an error is an instance of decides the status and the page's headline.
_ERROR_PAGES: tuple[tuple[type[AppError], int, str], ...] = (
    (LinkExpired, 410, "Link expired"),
    (LinkUsed, 409, "Already done"),
    (LinkError, 400, "Link not valid"),
    (InvalidInput, 400, "That did not work"),
    (NotFound, 404, "Not found"),
    (Conflict, 409, "That did not work"),
    (AppError, 400, "That did not work"),
)
_HTTP_HEADLINES = {404: "Page not found", 405: "Not allowed here"}


def _note_problem(text: str | None) -> str | None:
    """Why `text` cannot be saved as a note (the rules of notes.add_note), or None."""
    stripped = (text or "").strip()
    if not stripped:
        return "The text is empty."
    if len(stripped) > MAX_NOTE_CHARS:
        return f"The note is longer than {MAX_NOTE_CHARS} characters."
    return None


class _PrivateHeaders:
    """Put PRIVATE_HEADERS on every response, including the framework's own 404s and 405s."""

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
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_private)


def create_app(
    session_factory: sessionmaker[Session],
    signer: LinkSigner,
    clock: Clock | None = None,
) -> FastAPI:
    """The link server over `session_factory`, checking tokens with `signer`.

    Each POST is one unit of work: the link's nonce and its change commit together or not at
    all. `clock` is what "now" is when a link acts; it defaults to the signer's, so a link's
    age and its effect are read off one clock.
    """
    now: Clock = clock or signer.clock
    # No OpenAPI or docs pages: this is not the API, only the pages the email links open.
    app = FastAPI(title="keepwarm links", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(_PrivateHeaders)

    def verify(token: str, *, unsubscribe: bool) -> LinkedTarget:
        # An unsubscribe token only works under /u/ and an action token only under /a/, so a
        # repeated POST is read the way its path promises (200 there, 409 here).
        target = signer.verify(token, now())
        if (target.action in _UNSUBSCRIBE) != unsubscribe:
            raise LinkError("this link is not valid here (altered or not from this server)")
        return target

    def used(target: LinkedTarget) -> UsedLink | None:
        with session_factory() as session:
            return session.get(UsedLink, target.nonce)

    def what(target: LinkedTarget) -> str:
        with session_factory() as session:
            return describe(session, target)

    def already(target: LinkedTarget, status: int) -> HTMLResponse:
        row = used(target)
        outcome = row.outcome if row is not None else ""
        return already_done_page(target.action, outcome, row.used_at if row else None, status)

    # GET must never change anything. Mail scanners and link previewers (Outlook Safe Links,
    # Gmail's image and link proxy, chat unfurlers) fetch every GET link in a message before, or
    # instead of, the person; if a GET acted, a scanner would snooze or unsubscribe on its own.
    # So GET shows what will happen and one button; only the POST from that button acts.

    @app.api_route("/a/{token}", methods=["GET", "HEAD"])
    def confirm_action(token: str) -> HTMLResponse:
        target = verify(token, unsubscribe=False)
        if used(target) is not None:
            return already(target, 409)
        if target.action is LinkAction.NOTE:
            return note_page(what(target))
        return confirm_page(what(target), unsubscribe=False)

    @app.post("/a/{token}")
    def act(token: str, text: Annotated[str | None, Form()] = None) -> HTMLResponse:
        # No CSRF token: there is no cookie or session to ride on; whoever holds the signed
        # link may already do what it says, and it acts only once.
        target = verify(token, unsubscribe=False)
        if target.action is LinkAction.NOTE and (problem := _note_problem(text)) is not None:
            # Checked before the transaction: a note that cannot be saved writes nothing, and on
            # SQLite apply_link's savepoint (the transaction's first write) commits on release,
            # so a failure after it would spend the link.
            return note_page(what(target), text or "", problem)
        try:
            with unit_of_work(session_factory) as uow:
                outcome = apply_link(uow.session, target, now(), note_text=text)
        except LinkUsed:
            return already(target, 409)
        except InvalidInput as exc:
            # A rule the check above does not know of: the form again, with the reason.
            if target.action is LinkAction.NOTE:
                reason = str(exc).removeprefix("note: ")
                return note_page(what(target), text or "", reason[:1].upper() + reason[1:] + ".")
            raise
        return done_page(target.action, outcome)

    @app.api_route("/u/{token}", methods=["GET", "HEAD"])
    def confirm_unsubscribe(token: str) -> HTMLResponse:
        target = verify(token, unsubscribe=True)
        if used(target) is not None:
            return already(target, 200)
        return confirm_page(what(target), unsubscribe=True)

    @app.post("/u/{token}")
    def unsubscribe(token: str) -> HTMLResponse:
        # RFC 8058 one-click: the mail provider POSTs "List-Unsubscribe=One-Click" (urlencoded or
        # multipart) with no cookies and follows no redirect, so the answer is a plain 200. The
        # body is not checked: the signed token is what authorises, and the confirm page's button
        # sends the same field. A repeat is 200 too: the user is unsubscribed, providers retry.
        target = verify(token, unsubscribe=True)
        try:
            with unit_of_work(session_factory) as uow:
                outcome = apply_link(uow.session, target, now())
        except LinkUsed:
            return already(target, 200)
        return done_page(target.action, outcome)

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        try:
            with session_factory() as session:
                session.execute(sql("SELECT 1"))
        except SQLAlchemyError as exc:
            log.warning("healthz: the database does not answer: %s", exc)
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    @app.exception_handler(AppError)
    def app_error(_request: Request, exc: AppError) -> Response:
        status, headline = next((s, h) for kind, s, h in _ERROR_PAGES if isinstance(exc, kind))
        detail = str(exc)
        return message_page(status, headline, detail[:1].upper() + detail[1:] + ".")

    @app.exception_handler(HTTPException)
    def http_error(_request: Request, exc: HTTPException) -> Response:
        headline = _HTTP_HEADLINES.get(exc.status_code, "That did not work")
        response = message_page(exc.status_code, headline)
        response.headers.update(exc.headers or {})  # e.g. Allow on a 405
        return response

    @app.exception_handler(RequestValidationError)
    def bad_request(_request: Request, _exc: Exception) -> Response:
        return message_page(400, "That did not work", "The form could not be read.")

    @app.exception_handler(Exception)
    def internal_error(_request: Request, _exc: Exception) -> Response:
        # Runs outside the middleware, so the page carries its own private headers. The
        # traceback goes to the server's log (the framework re-raises it), never to the page.
        return message_page(500, "Something went wrong", "Please try again in a while.")

    return app
