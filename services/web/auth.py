"""Signing in and out, and connecting accounts from the browser.

    GET  /signin                      "Continue with Google" (one button per provider)
    POST /auth/{provider}             start the consent (CSRF-checked), 303 to the provider
    GET  /auth/{provider}/callback    the provider's redirect: state and PKCE checked, signed in
    POST /auth/local                  an embedded install's own user, from this machine only
    POST /accounts/connect/{provider} connect (or reconnect) another mailbox, signed in
    POST /signout                     end the session

The consent under way lives in the browser's server-side session, so the redirect's `state`
must come back to the same browser that started it (no login CSRF), and it is used once.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from keepwarm.connectors.errors import ConsentRefused
from keepwarm.services.accounts.sessions import (
    OpenSession,
    end_session,
    save_data,
    start_session,
)
from keepwarm.services.accounts.signin import (
    Pending,
    Purpose,
    SignUpRefused,
    begin_sign_in,
    finish_sign_in,
)
from keepwarm.services.accounts.users import ensure_user
from keepwarm.services.core.errors import NotSignedIn, PermissionDenied
from keepwarm.services.core.jobs import unit_of_work
from keepwarm.services.web.context import (
    CSRF_FIELD,
    LOOPBACK,
    WebContext,
    context,
    current_session,
    require_csrf,
)
from keepwarm.services.web.render import render

__all__ = ["router", "set_session_cookie"]

router = APIRouter(include_in_schema=False)
Csrf = Annotated[str | None, Form(alias=CSRF_FIELD)]


def set_session_cookie(ctx: WebContext, response: Response, opened: OpenSession) -> None:
    """The session cookie: HttpOnly (no script reads it), SameSite=Lax (sent on the provider's
    redirect back, not on another site's POST), Secure behind https."""
    response.set_cookie(
        ctx.cookie_name,
        opened.token,
        max_age=max(int((opened.expires_at - ctx.now()).total_seconds()), 60),
        path="/",
        secure=ctx.runtime.settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )


def _clear_cookie(ctx: WebContext, response: Response) -> None:
    response.delete_cookie(
        ctx.cookie_name,
        path="/",
        secure=ctx.runtime.settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )


def local_allowed(request: Request) -> bool:
    """An embedded install's own user may open the dashboard from a browser on this machine
    talking to a loopback address (not through a proxy that names the server otherwise)."""
    ctx = context(request)
    if not ctx.local_signin:
        return False
    client = request.client.host if request.client else ""
    host = (request.url.hostname or "").strip("[]")
    return client in LOOPBACK and host in LOOPBACK


def _providers(ctx: WebContext) -> list[tuple[str, str]]:
    registry = ctx.runtime.providers
    return [(name, registry.get(name).label) for name in registry.names()]


def _signed_in(ctx: WebContext, old: OpenSession | None, user_id: int, to: str) -> Response:
    """Replace the browser's session by a new one for `user_id` (no fixation) and go on."""
    with unit_of_work(ctx.runtime.session_factory) as uow:
        if old is not None:
            end_session(uow.session, old.token, ctx.now())
        opened = start_session(
            uow.session, user_id, ctx.now(), ctx.runtime.settings.session_lifetime
        )
    response = RedirectResponse(to, status_code=303)
    set_session_cookie(ctx, response, opened)
    return response


@router.get("/signin")
def signin_page(request: Request, refused: str | None = None) -> Response:
    ctx = context(request)
    found = current_session(request)
    if found is not None and found.user_id is not None:
        return RedirectResponse("/queue", status_code=303)
    if found is None:
        # An anonymous session, so the buttons' forms carry a CSRF token to check.
        with unit_of_work(ctx.runtime.session_factory) as uow:
            found = start_session(
                uow.session, None, ctx.now(), ctx.runtime.settings.session_lifetime
            )
        request.scope["keepwarm.session"] = found
        fresh = True
    else:
        fresh = False
    response = render(
        request,
        "signin.html",
        title="Sign in",
        providers=_providers(ctx),
        local=local_allowed(request),
        refused=None,
    )
    if fresh:
        set_session_cookie(ctx, response, found)
    return response


def _start_consent(
    request: Request, provider: str, purpose: Purpose, found: OpenSession, hint: str | None
) -> Response:
    ctx = context(request)
    pending = begin_sign_in(
        ctx.runtime,
        provider,
        purpose,
        ctx.public_url(f"/auth/{provider}/callback"),
        sandbox=ctx.sandboxes.get(provider),
        login_hint=hint or None,
    )
    with unit_of_work(ctx.runtime.session_factory) as uow:
        save_data(uow.session, found.token, {**found.data, "consent": pending.to_json()})
    return RedirectResponse(pending.request.url, status_code=303)


@router.post("/auth/local")
def local_sign_in(request: Request, csrf: Csrf = None) -> Response:
    found = require_csrf(request, csrf)
    if not local_allowed(request):
        raise PermissionDenied("this server does not open without signing in")
    ctx = context(request)
    with unit_of_work(ctx.runtime.session_factory) as uow:
        user_id = ensure_user(uow.session).id
    return _signed_in(ctx, found, user_id, "/queue")


@router.post("/auth/{provider}")
def start_sign_in(request: Request, provider: str, csrf: Csrf = None) -> Response:
    found = require_csrf(request, csrf)
    context(request).runtime.providers.get(provider)  # an unknown provider: 400 before anything
    return _start_consent(request, provider, Purpose.SIGN_IN, found, None)


@router.post("/accounts/connect/{provider}")
def start_connect(
    request: Request,
    provider: str,
    csrf: Csrf = None,
    login_hint: Annotated[str | None, Form(max_length=320)] = None,
) -> Response:
    found = require_csrf(request, csrf)
    if found.user_id is None:
        raise NotSignedIn("sign in before connecting another account")
    context(request).runtime.providers.get(provider)
    return _start_consent(request, provider, Purpose.CONNECT, found, login_hint)


@router.post("/auth/{provider}/callback")
async def form_post_callback(request: Request, provider: str) -> Response:
    """A provider that answers by form POST (Microsoft's response_mode=form_post): the same
    answer as a GET here. The browser sends no SameSite=Lax cookie with another site's POST,
    but does with the top-level GET this redirects to, so the consent is checked against the
    session that started it. Nothing changes here, so there is no CSRF token to check."""
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    return RedirectResponse(f"/auth/{provider}/callback?{urlencode(fields)}", status_code=303)


@router.get("/auth/{provider}/callback")
def callback(request: Request, provider: str) -> Response:
    ctx = context(request)
    found = current_session(request)
    raw = (found.data if found is not None else {}).get("consent")
    if found is None or not isinstance(raw, dict):
        raise ConsentRefused("no sign-in is under way in this browser: start again")
    pending = Pending.from_json(raw)
    # The consent is spent whatever happens next: a replayed redirect finds nothing.
    with unit_of_work(ctx.runtime.session_factory) as uow:
        save_data(uow.session, found.token, {k: v for k, v in found.data.items() if k != "consent"})
    if pending.provider != provider:
        raise ConsentRefused("the answer came back for another provider: start again")
    params = {k: v for k, v in request.query_params.items()}
    try:
        done = finish_sign_in(
            ctx.runtime,
            pending,
            params,
            current_user=found.user_id,
            sink=ctx.jobs,
            sandbox=ctx.sandboxes.get(provider),
        )
    except SignUpRefused as exc:
        return render(
            request,
            "signin.html",
            title="Sign in",
            status=403,
            providers=_providers(ctx),
            local=local_allowed(request),
            refused=str(exc)[:1].upper() + str(exc)[1:] + ".",
        )
    if pending.purpose is Purpose.CONNECT:
        return RedirectResponse("/accounts", status_code=303)
    return _signed_in(ctx, found, done.user_id, "/queue")


@router.post("/signout")
def sign_out(request: Request, csrf: Csrf = None) -> Response:
    found = require_csrf(request, csrf)
    ctx = context(request)
    with unit_of_work(ctx.runtime.session_factory) as uow:
        end_session(uow.session, found.token, ctx.now())
    response = RedirectResponse("/signin", status_code=303)
    _clear_cookie(ctx, response)
    return response
