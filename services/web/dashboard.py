"""The dashboard's pages: the queue and the dormant ties (answered in place), contacts, one
contact (timeline, chart, notes, follow-ups), introductions. Every one is the signed-in user's."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from keepwarm.services.core.errors import InvalidInput
from keepwarm.services.core.jobs import unit_of_work
from keepwarm.services.reconnect.intro import find_intros, parse_target
from keepwarm.services.reconnect.notes import MAX_NOTE_CHARS, dismiss_follow_up
from keepwarm.services.web import actions, views
from keepwarm.services.web.chart import month_chart
from keepwarm.services.web.context import CSRF_FIELD, Visitor, context, require_csrf, visitor
from keepwarm.services.web.render import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
Me = Annotated[Visitor, Depends(visitor)]
Csrf = Annotated[str | None, Form(alias=CSRF_FIELD)]
Cursor = Annotated[str | None, Query(max_length=500)]
PAGE = 25
_KINDS = {
    "sent": "you wrote",
    "received": "they wrote",
    "met": "met",
    "elsewhere": "talked elsewhere",
    "note": "note",
}


def _back(next_path: str | None, default: str) -> str:
    # Only a path on this site: never an open redirect ("//host" and "/\\host" are other sites
    # to a browser).
    if next_path is None or not next_path.startswith("/") or next_path.startswith("//"):
        return default
    return default if any(c in next_path for c in "\\\r\n") else next_path


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _done(request: Request, message: str, to: str) -> Response:
    if _wants_json(request):
        return JSONResponse({"message": message})
    sep = "&" if "?" in to else "?"
    from urllib.parse import quote

    return RedirectResponse(f"{to}{sep}notice={quote(message)}", status_code=303)


@router.get("/")
def home(request: Request, me: Me) -> Response:
    return RedirectResponse("/queue", status_code=303)


def _queue(
    request: Request, me: Visitor, cursor: str | None, notice: str | None, dormant: bool
) -> Response:
    ctx = context(request)
    rt = ctx.runtime
    with ctx.read_session() as session:
        paged = views.queue_page(
            session,
            me.user_id,
            ctx.now(),
            rt.queue_rules,
            rt.lifecycle_rules,
            dormant=dormant,
            cursor=cursor,
            limit=PAGE,
            cache=ctx.stats,
            builds=rt.session_factory,
        )
    if dormant:
        texts: dict[str, Any] = {
            "heading": "Dormant ties",
            "intro": "Strong ties quiet for a year or more. Old ties are often as helpful as "
            "current ones, with more that is new to you, and easier to pick up than it feels.",
            "empty": "No strong tie has been quiet for a year.",
        }
    else:
        texts = {
            "heading": "Reconnect",
            "intro": "People quiet for longer than is usual for the two of you, most "
            "pressing first.",
            "empty": "Nobody is due: everyone you keep in touch with has been in touch "
            "recently enough.",
        }
    return render(
        request,
        "queue.html",
        title=texts["heading"],
        active="dormant" if dormant else "queue",
        notice=notice,
        items=paged.items,
        next_cursor=paged.next_cursor,
        path="/dormant" if dormant else "/queue",
        **texts,
    )


@router.get("/queue")
def queue(
    request: Request,
    me: Me,
    cursor: Cursor = None,
    notice: Annotated[str | None, Query(max_length=300)] = None,
) -> Response:
    return _queue(request, me, cursor, notice, dormant=False)


@router.get("/dormant")
def dormant(
    request: Request,
    me: Me,
    cursor: Cursor = None,
    notice: Annotated[str | None, Query(max_length=300)] = None,
) -> Response:
    return _queue(request, me, cursor, notice, dormant=True)


@router.post("/contacts/{person_id}/answer")
def answer(
    request: Request,
    me: Me,
    person_id: int,
    action: Annotated[str, Form(max_length=20)],
    csrf: Csrf = None,
    next: Annotated[str | None, Form(max_length=300)] = None,
) -> Response:
    require_csrf(request, csrf)
    ctx = context(request)
    chosen, days = actions.parse_answer(action)
    with unit_of_work(ctx.runtime.session_factory) as uow:
        done = actions.answer(uow.session, me.user_id, person_id, chosen, ctx.now(), days)
    return _done(request, done.message, _back(next, "/queue"))


@router.get("/contacts")
def contacts(
    request: Request,
    me: Me,
    q: Annotated[str | None, Query(max_length=200)] = None,
    cursor: Cursor = None,
) -> Response:
    ctx = context(request)
    with ctx.runtime.session_factory() as session:
        rows = views.contacts(session, me.user_id, ctx.now(), q)
    paged = views.page(rows, views.contact_key, cursor, PAGE)
    from urllib.parse import quote

    return render(
        request,
        "contacts.html",
        title="Contacts",
        active="contacts",
        items=paged.items,
        next_cursor=paged.next_cursor,
        q=q or "",
        base=f"/contacts?q={quote(q)}" if q else "/contacts",
    )


@router.get("/contacts/{person_id}")
def contact(
    request: Request,
    me: Me,
    person_id: int,
    cursor: Cursor = None,
    notice: Annotated[str | None, Query(max_length=300)] = None,
) -> Response:
    ctx = context(request)
    with ctx.runtime.session_factory() as session:
        detail = views.contact_view(session, me.user_id, person_id, ctx.now())
        months = views.months_of_contact(session, me.user_id, person_id, ctx.now())
    paged = views.page(detail["timeline"], views.timeline_key, cursor, 50)
    return render(
        request,
        "contact.html",
        title=detail["name"] or detail["addresses"][0],
        active="contacts",
        notice=notice,
        c=detail,
        chart=month_chart(months),
        timeline=paged.items,
        next_cursor=paged.next_cursor,
        kinds=_KINDS,
        max_note=MAX_NOTE_CHARS,
    )


@router.post("/contacts/{person_id}/notes")
def add_note(
    request: Request,
    me: Me,
    person_id: int,
    text: Annotated[str, Form(max_length=MAX_NOTE_CHARS + 100)] = "",
    csrf: Csrf = None,
) -> Response:
    require_csrf(request, csrf)
    ctx = context(request)
    with unit_of_work(ctx.runtime.session_factory) as uow:
        message = actions.note(uow.session, me.user_id, person_id, text, ctx.now())
    return _done(request, message, f"/contacts/{person_id}")


_SPANS = {"1w": 7, "2w": 14, "1m": 30}


@router.post("/contacts/{person_id}/follow-ups")
def add_follow_up(
    request: Request,
    me: Me,
    person_id: int,
    due_in: Annotated[str, Form(max_length=5)] = "1w",
    reason: Annotated[str | None, Form(max_length=actions.MAX_REASON)] = None,
    csrf: Csrf = None,
) -> Response:
    require_csrf(request, csrf)
    if due_in not in _SPANS:
        raise InvalidInput("due_in: one of 1w, 2w, 1m", "due_in")
    ctx = context(request)
    with unit_of_work(ctx.runtime.session_factory) as uow:
        _id, _due, message = actions.follow_up(
            uow.session, me.user_id, person_id, _SPANS[due_in], reason, ctx.now()
        )
    return _done(request, message, f"/contacts/{person_id}")


@router.post("/follow-ups/{follow_up_id}/dismiss")
def dismiss(
    request: Request,
    me: Me,
    follow_up_id: int,
    csrf: Csrf = None,
    next: Annotated[str | None, Form(max_length=300)] = None,
) -> Response:
    require_csrf(request, csrf)
    ctx = context(request)
    with unit_of_work(ctx.runtime.session_factory) as uow:
        dismiss_follow_up(uow.session, me.user_id, follow_up_id, ctx.now())
    return _done(request, "Follow-up dismissed.", _back(next, "/queue"))


@router.get("/intros")
def intros(
    request: Request, me: Me, target: Annotated[str | None, Query(max_length=320)] = None
) -> Response:
    ctx = context(request)
    items: list[dict[str, Any]] = []
    error = None
    if target:
        try:
            with ctx.runtime.session_factory() as session:
                items = views.intro_rows(
                    session,
                    me.user_id,
                    find_intros(session, me.user_id, parse_target(target), ctx.now()),
                )
        except InvalidInput as exc:
            error = str(exc).removeprefix("intro: ")
    return render(
        request,
        "intros.html",
        title="Introductions",
        active="intros",
        target=target or "",
        items=items,
        error=error,
    )
