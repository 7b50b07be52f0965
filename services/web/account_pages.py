"""The user's own pages: accounts (sync health, connect, reconnect, disconnect), settings and
API tokens, export of everything, and deleting the account."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from keepwarm.services.accounts import tokens
from keepwarm.services.accounts.connect import disconnect_account
from keepwarm.services.accounts.deletion import delete_user
from keepwarm.services.accounts.export import export_user
from keepwarm.services.accounts.preferences import (
    FLOOR_RANGE,
    SIZE_RANGE,
    preferences,
    update_preferences,
)
from keepwarm.services.core.errors import InvalidInput
from keepwarm.services.core.jobs import unit_of_work
from keepwarm.services.models import User
from keepwarm.services.notify.plan import recipient_for
from keepwarm.services.notify.schedule import WEEKDAYS
from keepwarm.services.web import views
from keepwarm.services.web.context import (
    CSRF_FIELD,
    Visitor,
    WebContext,
    context,
    require_csrf,
    visitor,
)
from keepwarm.services.web.render import DASHBOARD_HEADERS, render

__all__ = ["CONFIRM_DELETE", "export_response", "router"]

router = APIRouter(include_in_schema=False)
Me = Annotated[Visitor, Depends(visitor)]
Csrf = Annotated[str | None, Form(alias=CSRF_FIELD)]
Notice = Annotated[str | None, Query(max_length=300)]
CONFIRM_DELETE = "delete my account"


def _providers(ctx: WebContext) -> list[tuple[str, str]]:
    registry = ctx.runtime.providers
    return [(name, registry.get(name).label) for name in registry.names()]


@router.get("/accounts")
def accounts_page(request: Request, me: Me, notice: Notice = None) -> Response:
    ctx = context(request)
    rt = ctx.runtime
    with rt.session_factory() as session:
        rows = views.account_rows(session, me.user_id, rt.cipher(), rt.token_key_name)
    providers = _providers(ctx)
    return render(
        request,
        "accounts.html",
        title="Accounts",
        active="accounts",
        notice=notice,
        accounts=rows,
        providers=providers,
        labels=dict(providers),
    )


@router.post("/accounts/{account_id}/disconnect")
def disconnect_page(
    request: Request,
    me: Me,
    account_id: int,
    csrf: Csrf = None,
    purge: Annotated[str | None, Form(max_length=10)] = None,
) -> Response:
    require_csrf(request, csrf)
    ctx = context(request)
    done = disconnect_account(ctx.runtime, me.user_id, account_id, purge=bool(purge))
    if done.purged is not None and ctx.stats is not None:
        ctx.stats.forget(me.user_id)
    message = f"{done.email} disconnected" + (" and deleted." if done.purged else ".")
    from urllib.parse import quote

    return RedirectResponse(f"/accounts?notice={quote(message)}", status_code=303)


def _settings_page(
    request: Request,
    me: Visitor,
    *,
    notice: str | None = None,
    error: str | None = None,
    new_token: str | None = None,
    status: int = 200,
) -> Response:
    ctx = context(request)
    rt = ctx.runtime
    with rt.session_factory() as session:
        prefs = preferences(session, me.user_id, rt.queue_rules, rt.settings.digest_size)
        user = session.get(User, me.user_id)
        recipient = recipient_for(session, user) if user is not None else None
        listed = tokens.list_tokens(session, me.user_id)
    return render(
        request,
        "settings.html",
        title="Settings",
        active="settings",
        status=status,
        notice=notice,
        error=error,
        p=prefs,
        recipient=recipient,
        weekdays=WEEKDAYS,
        floor_range=FLOOR_RANGE,
        size_range=SIZE_RANGE,
        tokens=listed,
        new_token=new_token,
    )


@router.get("/settings")
def settings_page(request: Request, me: Me, notice: Notice = None) -> Response:
    return _settings_page(request, me, notice=notice)


@router.post("/settings")
async def save_settings(request: Request, me: Me) -> Response:
    form = await request.form()
    require_csrf(request, _text(form.get(CSRF_FIELD)))
    changes: dict[str, Any] = {
        "digests_enabled": form.get("digests_enabled") == "yes",
        "prompts_enabled": form.get("prompts_enabled") == "yes",
    }
    for name in ("digest_weekday", "digest_hour", "timezone", "digest_size", "floor_months"):
        value = _text(form.get(name))
        if value is not None and value.strip():
            changes[name] = value.strip()
    changes["email"] = _text(form.get("email")) or None
    changes["excluded"] = _text(form.get("excluded")) or ""
    ctx = context(request)
    try:
        with unit_of_work(ctx.runtime.session_factory) as uow:
            update_preferences(uow.session, me.user_id, changes)
    except InvalidInput as exc:
        return _settings_page(request, me, error=str(exc), status=400)
    return RedirectResponse("/settings?notice=Settings+saved.", status_code=303)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


@router.post("/settings/tokens")
def make_token(
    request: Request,
    me: Me,
    csrf: Csrf = None,
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    require_csrf(request, csrf)
    ctx = context(request)
    with unit_of_work(ctx.runtime.session_factory) as uow:
        made = tokens.create_token(uow.session, me.user_id, name, ctx.now())
    # Shown on this response only: the secret is not kept anywhere.
    return _settings_page(
        request, me, new_token=made.secret, notice=f"Token “{made.info.name}” made."
    )


@router.post("/settings/tokens/{token_id}/revoke")
def revoke(request: Request, me: Me, token_id: int, csrf: Csrf = None) -> Response:
    require_csrf(request, csrf)
    ctx = context(request)
    with unit_of_work(ctx.runtime.session_factory) as uow:
        tokens.revoke_token(uow.session, me.user_id, token_id, ctx.now())
    return RedirectResponse("/settings?notice=Token+revoked.", status_code=303)


def export_response(ctx: WebContext, user_id: int, headers: dict[str, str]) -> Response:
    """Everything the user owns as a streamed JSON download."""
    session = ctx.runtime.session_factory()
    try:
        pieces = export_user(session, user_id, ctx.now())
    except Exception:
        session.close()
        raise

    def stream() -> Any:
        try:
            yield from pieces
        finally:
            session.close()

    day = ctx.now().date().isoformat()
    return StreamingResponse(
        stream(),
        media_type="application/json",
        headers={
            **headers,
            "Content-Disposition": f'attachment; filename="keepwarm-export-{day}.json"',
        },
    )


@router.get("/export")
def export(request: Request, me: Me) -> Response:
    return export_response(context(request), me.user_id, DASHBOARD_HEADERS)


@router.get("/delete")
def delete_page(request: Request, me: Me) -> Response:
    return render(request, "delete.html", title="Delete your account", error=None)


@router.post("/delete")
def delete_account(
    request: Request,
    me: Me,
    csrf: Csrf = None,
    confirm: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    require_csrf(request, csrf)
    if confirm.strip().lower() != CONFIRM_DELETE:
        return render(
            request,
            "delete.html",
            title="Delete your account",
            status=400,
            error=f"Type “{CONFIRM_DELETE}” to confirm: nothing was deleted.",
        )
    ctx = context(request)
    delete_user(ctx.runtime, me.user_id)
    if ctx.stats is not None:
        ctx.stats.forget(me.user_id)
    response = render(
        request,
        "message.html",
        title="Account deleted",
        headline="Your account is deleted",
        detail="keepwarm's access to your mailboxes is revoked and everything it held for you "
        "is gone.",
        back="/signin",
        back_label="Back to the start",
    )
    response.delete_cookie(
        ctx.cookie_name, path="/", secure=ctx.runtime.settings.secure_cookies, httponly=True
    )
    return response
