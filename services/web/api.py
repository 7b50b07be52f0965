"""The REST API, /api/v1: the dashboard's data and actions as JSON.

Authenticate with a personal API token (`Authorization: Bearer kw_...`, made in Settings) or,
from the dashboard's own pages, the session cookie with its `X-CSRF-Token` on changes. Lists
are paged with opaque cursors (`next_cursor`, null on the last page). Every error is
`{"error": {"code", "message", "field"}}` with the status services.core.errors gives it.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Path, Query, Request, Security
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from keepwarm.services.accounts import tokens
from keepwarm.services.accounts.connect import disconnect_account
from keepwarm.services.accounts.deletion import delete_user
from keepwarm.services.accounts.preferences import preferences, update_preferences
from keepwarm.services.accounts.tokens import TokenInfo
from keepwarm.services.core.errors import InvalidInput, NotSignedIn
from keepwarm.services.core.jobs import unit_of_work
from keepwarm.services.models import Account, ApiToken, Identity, User
from keepwarm.services.reconnect.intro import find_intros, parse_target
from keepwarm.services.reconnect.notes import dismiss_follow_up
from keepwarm.services.web import actions, views
from keepwarm.services.web.account_pages import export_response
from keepwarm.services.web.context import BAD_TOKEN, Visitor, bearer_secret, context, visitor
from keepwarm.services.web.pages import PRIVATE_HEADERS
from keepwarm.services.web.schemas import (
    AccountPage,
    AnswerIn,
    AnswerOut,
    ContactDetail,
    ContactPage,
    DeletedOut,
    DeleteIn,
    DisconnectIn,
    DisconnectOut,
    ErrorOut,
    FollowUpIn,
    FollowUpOut,
    IntroPage,
    MeOut,
    NoteIn,
    NoteOut,
    SettingsIn,
    SettingsOut,
    SuggestionPage,
    TimelinePage,
    TokenCreated,
    TokenIn,
    TokenOut,
)

__all__ = ["ERROR_RESPONSES", "queue_router", "router"]

_bearer = HTTPBearer(auto_error=False, description="a personal API token (Settings)")


def api_visitor(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)] = None,
) -> Visitor:
    return visitor(request)


async def known_query(request: Request) -> None:
    """Refuse a query parameter the operation does not take (a typo would be ignored
    silently otherwise): 400 naming it."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    known = {p.alias for p in dependant.query_params}  # the dependencies take none
    for name, _value in parse_qsl(request.url.query, keep_blank_values=True):
        if name not in known:
            raise InvalidInput(f"{name}: not a parameter of this call", name or "query")


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": text}
    for status, text in (
        (400, "bad input: `field` names what is wrong"),
        (401, "no valid session or API token"),
        (403, "not allowed (a change without its CSRF token)"),
        (404, "no such record for this user"),
        (409, "contradicts what is stored"),
    )
}
router = APIRouter(prefix="/api/v1", dependencies=[Depends(api_visitor)], responses=ERROR_RESPONSES)
Me = Annotated[Visitor, Depends(api_visitor)]
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
Cursor = Annotated[
    str | None, Query(max_length=500, description="next_cursor of the previous page")
]
Limit = Annotated[int, Query(ge=1, le=views.MAX_LIMIT)]


def _iso(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def _token(info: TokenInfo) -> TokenOut:
    return TokenOut(
        id=info.id,
        name=info.name,
        prefix=info.prefix,
        created_at=_iso(info.created_at) or "",
        last_used_at=_iso(info.last_used_at),
        revoked_at=_iso(info.revoked_at),
    )


def _suggestions(paged: views.Paged[dict[str, Any]]) -> SuggestionPage:
    items = []
    for row in paged.items:
        row = dict(row)
        row["contact"] = {"id": row.pop("id"), **row["contact"]}
        items.append(row)
    return SuggestionPage.model_validate({"items": items, "next_cursor": paged.next_cursor})


@router.get("/me", summary="Who is signed in")
def me(request: Request, me: Me) -> MeOut:
    ctx = context(request)
    with ctx.runtime.session_factory() as session:
        user = session.get(User, me.user_id)
        identities = session.execute(
            select(Identity.provider, Identity.email)
            .where(Identity.user_id == me.user_id)
            .order_by(Identity.id)
        ).all()
        accounts = session.scalar(
            select(func.count()).select_from(Account).where(Account.user_id == me.user_id)
        )
    return MeOut(
        id=me.user_id,
        name=user.name if user is not None else None,
        identities=[{"provider": p, "email": e} for p, e in identities],  # type: ignore[misc]
        accounts=int(accounts or 0),
    )


# The queue is the API's busiest read. Its two routes sign the visitor in themselves rather
# than through the router's dependency: an API token and everything the queue's cache key needs
# of its owner come in one statement, and a page of a kept queue is sent as the bytes kept
# with it, not validated and serialised again (response_model still documents them).
queue_router = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]


@queue_router.get(
    "/queue", summary="The reconnect queue, best first", response_model=SuggestionPage
)
async def queue(
    request: Request, _credentials: Credentials = None, cursor: Cursor = None, limit: Limit = 50
) -> Response:
    return await _served(request, cursor, limit, dormant=False)


@queue_router.get(
    "/dormant", summary="Strong ties quiet for a year or more", response_model=SuggestionPage
)
async def dormant(
    request: Request, _credentials: Credentials = None, cursor: Cursor = None, limit: Limit = 50
) -> Response:
    return await _served(request, cursor, limit, dormant=True)


async def _served(request: Request, cursor: str | None, limit: int, *, dormant: bool) -> Response:
    # A page already kept is sent from the event loop: one short statement (the token and the
    # key) and no hand-over to the thread pool, whose threads contending for the GIL made the
    # tail (bench/README.md, api.py: p99 296 ms through the pool, 45 ms in place). Anything
    # to build or render goes to the pool, so a slow build never holds the loop.
    ctx = context(request)
    now = ctx.now()
    with ctx.read_session() as session:
        user_id, key = _owner_and_key(request, session, now)
    if ctx.stats is not None:
        body = ctx.stats.kept_page(user_id, dormant, key.parts, now, (cursor, limit))
        if body is not None:
            return Response(body, media_type="application/json")
    return await run_in_threadpool(
        _queue, request, user_id, key, now, cursor, limit, dormant=dormant
    )


def _queue(
    request: Request,
    user_id: int,
    key: views.QueueKey,
    now: datetime,
    cursor: str | None,
    limit: int,
    *,
    dormant: bool,
) -> Response:
    ctx = context(request)
    rt = ctx.runtime
    with ctx.read_session() as session:
        body = views.rendered_queue_page(
            session,
            user_id,
            now,
            rt.lifecycle_rules,
            key,
            dormant=dormant,
            cursor=cursor,
            limit=limit,
            render=_render_suggestions,
            cache=ctx.stats,
            builds=rt.session_factory,
        )
    return Response(body, media_type="application/json")


def _owner_and_key(request: Request, session: Session, now: datetime) -> tuple[int, views.QueueKey]:
    """The signed-in user and their queue's key; raises NotSignedIn. An API token is checked
    on every request (a revoked one stops at once), in the statement that reads the key."""
    rt = context(request).runtime
    secret = bearer_secret(request)
    if secret is None:
        me = visitor(request)  # the dashboard's session cookie; a GET needs no CSRF token
        return me.user_id, views.queue_key(session, me.user_id, rt.queue_rules, rt.lifecycle_rules)
    statement = _token_and_key(session.get_bind().dialect.name)
    owner = tokens.owner_of_token(session, secret, now, statement)
    if owner is None:
        raise NotSignedIn(BAD_TOKEN)
    if owner.noted:
        session.commit()  # a no-op in autocommit mode; what commits the note otherwise
    return owner.user_id, views.QueueKey.of(owner.values, rt.queue_rules, rt.lifecycle_rules)


@functools.cache
def _token_and_key(dialect: str) -> Select[Any]:
    return tokens.owner_statement(*views.queue_key_columns(dialect, ApiToken.user_id))


def _render_suggestions(paged: views.Paged[dict[str, Any]]) -> bytes:
    return _suggestions(paged).model_dump_json().encode()


@router.get("/contacts", summary="Relationships, strongest first")
def contacts(
    request: Request,
    me: Me,
    q: Annotated[str | None, Query(max_length=200, description="part of a name or address")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> ContactPage:
    ctx = context(request)
    with ctx.runtime.session_factory() as session:
        rows = views.contacts(session, me.user_id, ctx.now(), q)
    paged = views.page(rows, views.contact_key, cursor, limit)
    return ContactPage.model_validate({"items": paged.items, "next_cursor": paged.next_cursor})


@router.get("/contacts/{person_id}", summary="One contact, with notes, follow-ups and months")
def contact(request: Request, me: Me, person_id: Id) -> ContactDetail:
    ctx = context(request)
    with ctx.runtime.session_factory() as session:
        detail = views.contact_view(session, me.user_id, person_id, ctx.now())
        months = views.months_of_contact(session, me.user_id, person_id, ctx.now())
    detail.pop("timeline", None)
    detail["months"] = [
        {
            "month": m.month,
            "sent": m.sent,
            "received": m.received,
            "met": m.met,
            "elsewhere": m.elsewhere,
        }
        for m in months
    ]
    return ContactDetail.model_validate(detail)


@router.get("/contacts/{person_id}/timeline", summary="A contact's timeline, newest first")
def timeline(
    request: Request, me: Me, person_id: Id, cursor: Cursor = None, limit: Limit = 50
) -> TimelinePage:
    ctx = context(request)
    with ctx.runtime.session_factory() as session:
        detail = views.contact_view(session, me.user_id, person_id, ctx.now())
    paged = views.page(detail["timeline"], views.timeline_key, cursor, limit)
    return TimelinePage.model_validate({"items": paged.items, "next_cursor": paged.next_cursor})


@router.post("/contacts/{person_id}/answers", summary="Answer a suggestion")
def answer(request: Request, me: Me, person_id: Id, body: AnswerIn) -> AnswerOut:
    ctx = context(request)
    with unit_of_work(ctx.runtime.session_factory) as uow:
        done = actions.answer(
            uow.session,
            me.user_id,
            person_id,
            actions.Answer(body.action),
            ctx.now(),
            body.snooze_days,
        )
    return AnswerOut(action=done.action.value, until=_iso(done.until), message=done.message)


@router.get("/contacts/{person_id}/notes", summary="A contact's notes, newest first")
def notes(request: Request, me: Me, person_id: Id) -> list[NoteOut]:
    ctx = context(request)
    with ctx.runtime.session_factory() as session:
        detail = views.contact_view(session, me.user_id, person_id, ctx.now())
    return [NoteOut.model_validate(n) for n in detail["notes"]]


@router.post("/contacts/{person_id}/notes", status_code=201, summary="Add a note")
def add_note(request: Request, me: Me, person_id: Id, body: NoteIn) -> NoteOut:
    ctx = context(request)
    now = ctx.now()
    with unit_of_work(ctx.runtime.session_factory) as uow:
        actions.note(uow.session, me.user_id, person_id, body.text, now)
    return NoteOut(at=_iso(now) or "", text=body.text.strip())


@router.get("/contacts/{person_id}/follow-ups", summary="A contact's open follow-ups")
def follow_ups(request: Request, me: Me, person_id: Id) -> list[FollowUpOut]:
    ctx = context(request)
    with ctx.runtime.session_factory() as session:
        detail = views.contact_view(session, me.user_id, person_id, ctx.now())
    return [FollowUpOut.model_validate(f) for f in detail["follow_ups"]]


@router.post("/contacts/{person_id}/follow-ups", status_code=201, summary="Set a follow-up")
def add_follow_up(request: Request, me: Me, person_id: Id, body: FollowUpIn) -> FollowUpOut:
    ctx = context(request)
    now = ctx.now()
    with unit_of_work(ctx.runtime.session_factory) as uow:
        follow_up_id, due, _ = actions.follow_up(
            uow.session, me.user_id, person_id, body.due_in_days, body.reason, now
        )
    reason = (body.reason or "").strip() or None
    return FollowUpOut(
        id=follow_up_id, due_at=_iso(due) or "", set_at=_iso(now) or "", reason=reason
    )


@router.delete("/follow-ups/{follow_up_id}", status_code=204, summary="Dismiss a follow-up")
def dismiss(request: Request, me: Me, follow_up_id: Id) -> Response:
    ctx = context(request)
    with unit_of_work(ctx.runtime.session_factory) as uow:
        dismiss_follow_up(uow.session, me.user_id, follow_up_id, ctx.now())
    return Response(status_code=204)


@router.get("/intros", summary="Who could introduce you to a person or an organisation")
def intros(
    request: Request,
    me: Me,
    target: Annotated[str, Query(min_length=1, max_length=320, description="address or domain")],
) -> IntroPage:
    ctx = context(request)
    parsed = parse_target(target)
    with ctx.runtime.session_factory() as session:
        rows = views.intro_rows(
            session, me.user_id, find_intros(session, me.user_id, parsed, ctx.now())
        )
    return IntroPage.model_validate({"items": rows})


@router.get("/accounts", summary="Connected accounts and their sync health")
def accounts(request: Request, me: Me) -> AccountPage:
    ctx = context(request)
    rt = ctx.runtime
    with rt.session_factory() as session:
        rows = views.account_rows(session, me.user_id, rt.cipher(), rt.token_key_name)
    return AccountPage.model_validate({"items": rows})


@router.post("/accounts/{account_id}/disconnect", summary="Revoke access; purge optionally")
def disconnect(request: Request, me: Me, account_id: Id, body: DisconnectIn) -> DisconnectOut:
    ctx = context(request)
    done = disconnect_account(ctx.runtime, me.user_id, account_id, purge=body.purge)
    if done.purged is not None and ctx.stats is not None:
        ctx.stats.forget(me.user_id)
    return DisconnectOut(email=done.email, purged=done.purged is not None)


@router.get("/settings", summary="Your settings")
def get_settings(request: Request, me: Me) -> SettingsOut:
    rt = context(request).runtime
    with rt.session_factory() as session:
        prefs = preferences(session, me.user_id, rt.queue_rules, rt.settings.digest_size)
    return SettingsOut.model_validate({**_fields(prefs), "excluded": list(prefs.excluded)})


def _fields(prefs: Any) -> dict[str, Any]:
    return {name: getattr(prefs, name) for name in prefs.__slots__}


@router.patch("/settings", summary="Change some of your settings")
def patch_settings(request: Request, me: Me, body: SettingsIn) -> SettingsOut:
    rt = context(request).runtime
    with unit_of_work(rt.session_factory) as uow:
        update_preferences(uow.session, me.user_id, body.model_dump(exclude_unset=True))
    return get_settings(request, me)


@router.get("/tokens", summary="Your API tokens (never their secrets)")
def list_tokens(request: Request, me: Me) -> list[TokenOut]:
    with context(request).runtime.session_factory() as session:
        return [_token(t) for t in tokens.list_tokens(session, me.user_id)]


@router.post("/tokens", status_code=201, summary="Make an API token (its secret shown once)")
def create_token(request: Request, me: Me, body: TokenIn) -> TokenCreated:
    ctx = context(request)
    with unit_of_work(ctx.runtime.session_factory) as uow:
        made = tokens.create_token(uow.session, me.user_id, body.name, ctx.now())
    return TokenCreated(**_token(made.info).model_dump(), token=made.secret)


@router.delete("/tokens/{token_id}", summary="Revoke an API token")
def revoke_token(request: Request, me: Me, token_id: Id) -> TokenOut:
    ctx = context(request)
    with unit_of_work(ctx.runtime.session_factory) as uow:
        return _token(tokens.revoke_token(uow.session, me.user_id, token_id, ctx.now()))


@router.get(
    "/export",
    summary="Everything you own, as one JSON document",
    response_class=Response,
    responses={
        200: {
            "description": "the export (format keepwarm.export/1)",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
def export(request: Request, me: Me) -> Response:
    return export_response(context(request), me.user_id, PRIVATE_HEADERS)


@router.delete("/me", summary="Delete your account: revoke every grant, purge everything")
def delete_me(request: Request, me: Me, body: DeleteIn) -> DeletedOut:
    ctx = context(request)
    gone = delete_user(ctx.runtime, me.user_id)
    if ctx.stats is not None:
        ctx.stats.forget(me.user_id)
    return DeletedOut(
        accounts=gone.accounts,
        people=gone.people,
        messages=gone.messages,
        interactions=gone.interactions,
    )
