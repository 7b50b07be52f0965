"""The pages the one-click links in emails open: confirm on GET, act once on POST.

    GET  /a/{token}   what the link will do, and one button (a form for a note)
    POST /a/{token}   do it, once                       (409 "already done" the second time)
    GET  /u/{token}   unsubscribe: confirm
    POST /u/{token}   unsubscribe, RFC 8058 one-click   (200 again on a repeat: still unsubscribed)

The signed token is the only credential: no cookies, no sessions, no JavaScript. An altered or
foreign link is 400, an expired one 410, a used one 409 (services.web.errors).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from keepwarm.services.core.errors import InvalidInput
from keepwarm.services.core.jobs import unit_of_work
from keepwarm.services.models import UsedLink
from keepwarm.services.notify.links import (
    UNSUBSCRIBE,
    LinkAction,
    LinkedTarget,
    LinkError,
    LinkUsed,
    apply_link,
    describe,
)
from keepwarm.services.reconnect.notes import MAX_NOTE_CHARS
from keepwarm.services.web.context import context
from keepwarm.services.web.pages import already_done_page, confirm_page, done_page, note_page

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _note_problem(text: str | None) -> str | None:
    """Why `text` cannot be saved as a note (the rules of notes.add_note), or None."""
    stripped = (text or "").strip()
    if not stripped:
        return "The text is empty."
    if len(stripped) > MAX_NOTE_CHARS:
        return f"The note is longer than {MAX_NOTE_CHARS} characters."
    return None


def _verify(request: Request, token: str, *, unsubscribe: bool) -> LinkedTarget:
    # An unsubscribe token only works under /u/ and an action token only under /a/, so a
    # repeated POST is read the way its path promises (200 there, 409 here).
    ctx = context(request)
    target = ctx.signer.verify(token, ctx.now())
    if (target.action in UNSUBSCRIBE) != unsubscribe:
        raise LinkError("this link is not valid here (altered or not from this server)")
    return target


def _used(request: Request, target: LinkedTarget) -> UsedLink | None:
    with context(request).runtime.session_factory() as session:
        return session.get(UsedLink, target.nonce)


def _what(request: Request, target: LinkedTarget) -> str:
    with context(request).runtime.session_factory() as session:
        return describe(session, target)


def _already(request: Request, target: LinkedTarget, status: int) -> HTMLResponse:
    row = _used(request, target)
    outcome = row.outcome if row is not None else ""
    return already_done_page(target.action, outcome, row.used_at if row else None, status)


# GET must never change anything. Mail scanners and link previewers (Outlook Safe Links,
# Gmail's image and link proxy, chat unfurlers) fetch every GET link in a message before, or
# instead of, the person; if a GET acted, a scanner would snooze or unsubscribe on its own.
# So GET shows what will happen and one button; only the POST from that button acts.


@router.api_route("/a/{token}", methods=["GET", "HEAD"])
def confirm_action(request: Request, token: str) -> HTMLResponse:
    target = _verify(request, token, unsubscribe=False)
    if _used(request, target) is not None:
        return _already(request, target, 409)
    if target.action is LinkAction.NOTE:
        return note_page(_what(request, target))
    return confirm_page(_what(request, target), unsubscribe=False)


@router.post("/a/{token}")
def act(request: Request, token: str, text: Annotated[str | None, Form()] = None) -> HTMLResponse:
    # No CSRF token: there is no cookie or session to ride on; whoever holds the signed
    # link may already do what it says, and it acts only once.
    target = _verify(request, token, unsubscribe=False)
    if target.action is LinkAction.NOTE and (problem := _note_problem(text)) is not None:
        # Checked before the transaction: a note that cannot be saved writes nothing, and on
        # SQLite apply_link's savepoint (the transaction's first write) commits on release,
        # so a failure after it would spend the link.
        return note_page(_what(request, target), text or "", problem)
    ctx = context(request)
    try:
        with unit_of_work(ctx.runtime.session_factory) as uow:
            outcome = apply_link(uow.session, target, ctx.now(), note_text=text)
    except LinkUsed:
        return _already(request, target, 409)
    except InvalidInput as exc:
        # A rule the check above does not know of: the form again, with the reason.
        if target.action is LinkAction.NOTE:
            reason = str(exc).removeprefix("note: ")
            return note_page(
                _what(request, target), text or "", reason[:1].upper() + reason[1:] + "."
            )
        raise
    return done_page(target.action, outcome)


@router.api_route("/u/{token}", methods=["GET", "HEAD"])
def confirm_unsubscribe(request: Request, token: str) -> HTMLResponse:
    target = _verify(request, token, unsubscribe=True)
    if _used(request, target) is not None:
        return _already(request, target, 200)
    return confirm_page(_what(request, target), unsubscribe=True)


@router.post("/u/{token}")
def unsubscribe(request: Request, token: str) -> HTMLResponse:
    # RFC 8058 one-click: the mail provider POSTs "List-Unsubscribe=One-Click" (urlencoded or
    # multipart) with no cookies and follows no redirect, so the answer is a plain 200. The
    # body is not checked: the signed token is what authorises, and the confirm page's button
    # sends the same field. A repeat is 200 too: the user is unsubscribed, providers retry.
    target = _verify(request, token, unsubscribe=True)
    ctx = context(request)
    try:
        with unit_of_work(ctx.runtime.session_factory) as uow:
            outcome = apply_link(uow.session, target, ctx.now())
    except LinkUsed:
        return _already(request, target, 200)
    return done_page(target.action, outcome)
