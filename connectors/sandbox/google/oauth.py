"""Google's OAuth 2.0 endpoints as installed-app clients use them.

- `GET /o/oauth2/auth` (also `/o/oauth2/v2/auth`): checks the request, auto-approves the
  sandbox's user and redirects to the loopback redirect_uri with `code`, `scope` and `state`.
- `POST /token` (also `/o/oauth2/token`, `/oauth2/v4/token`): authorization_code (PKCE S256
  required) and refresh_token grants; client credentials by HTTP Basic or in the form.
- `POST /revoke` (also `/o/oauth2/revoke`): token in the query or the form.
- `GET /oauth2/v3/userinfo`: handled by the app, which authenticates it like any API call.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from urllib.parse import unquote_plus, urlencode, urlsplit

from keepwarm.connectors.sandbox.google.errors import OAuthError
from keepwarm.connectors.sandbox.google.grants import AccessToken, Grants
from keepwarm.connectors.sandbox.google.scopes import OPENID, USERINFO_EMAIL, normalize
from keepwarm.connectors.sandbox.google.wire import Caller, Request, Response

__all__ = ["AUTH_PATHS", "REVOKE_PATHS", "TOKEN_PATHS", "authorize", "revoke", "token", "userinfo"]

AUTH_PATHS = ("/o/oauth2/auth", "/o/oauth2/v2/auth")
TOKEN_PATHS = ("/token", "/o/oauth2/token", "/oauth2/v4/token")
REVOKE_PATHS = ("/revoke", "/o/oauth2/revoke")
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def authorize(request: Request, grants: Grants, *, extra_redirects: tuple[str, ...]) -> Response:
    """The consent step: a 302 to redirect_uri with a code, or with `error` when the request is
    wrong in a way the client can be told; 400 when the client or redirect itself is bad."""
    client_id = request.param("client_id") or ""
    redirect_uri = request.param("redirect_uri") or ""
    if not client_id:
        return _page(400, "invalid_client", "The OAuth client was not found.")
    if not _allowed_redirect(redirect_uri, extra_redirects):
        return _page(400, "redirect_uri_mismatch", f"Invalid redirect_uri: {redirect_uri!r}")
    state = request.param("state")

    def back(**params: str) -> Response:
        if state is not None:
            params["state"] = state
        joiner = "&" if urlsplit(redirect_uri).query else "?"
        return Response(
            302, b"", "text/html", (("Location", redirect_uri + joiner + urlencode(params)),)
        )

    if request.param("response_type") != "code":
        return back(error="unsupported_response_type")
    granted, unknown = normalize((request.param("scope") or "").split())
    if unknown or not granted:
        return back(error="invalid_scope", error_description=f"Invalid scope: {' '.join(unknown)}")
    challenge = request.param("code_challenge")
    if not challenge or request.param("code_challenge_method") != "S256":
        return back(
            error="invalid_request",
            error_description="code_challenge with code_challenge_method=S256 is required",
        )
    if grants.consent_blocked:
        return back(error="access_denied")
    code = grants.issue_code(
        client_id=client_id,
        redirect_uri=redirect_uri,
        scopes=granted,
        challenge=challenge,
        offline=request.param("access_type") == "offline",
    )
    return back(code=code, scope=" ".join(sorted(granted)))


def token(request: Request, grants: Grants) -> Response:
    """The token endpoint. Errors are OAuth JSON bodies, 400 (401 for client errors)."""
    if request.method != "POST":
        return OAuthError("invalid_request", "Method not allowed", status=405).response()
    form = request.form()
    try:
        client_id, secret = _client(request, form)
        grants.check_client(client_id, secret)
        grant_type = form.get("grant_type", "")
        if grant_type == "authorization_code":
            grant, access = grants.redeem(
                form.get("code", ""),
                client_id=client_id,
                redirect_uri=form.get("redirect_uri"),
                verifier=form.get("code_verifier"),
            )
            refresh = grant.refresh_token
        elif grant_type == "refresh_token":
            scope = form.get("scope")
            wanted = normalize(scope.split())[0] if scope else None
            access = grants.refresh(
                form.get("refresh_token", ""), client_id=client_id, scopes=wanted
            )
            refresh = None  # Google does not rotate refresh tokens
        else:
            raise OAuthError("unsupported_grant_type", f"Invalid grant_type: {grant_type}")
    except OAuthError as exc:
        return exc.response()
    body: dict[str, object] = {
        "access_token": access.token,
        "expires_in": max(int(grants.access_lifetime) - 1, 1),
        "scope": " ".join(sorted(access.scopes)),
        "token_type": "Bearer",
    }
    if refresh is not None:
        body["refresh_token"] = refresh
    if OPENID in access.scopes:
        body["id_token"] = _id_token(access, grants.clients.get(client_id, ""))
    return Response.json(200, body, (("Cache-Control", "no-cache, no-store, max-age=0"),))


def revoke(request: Request, grants: Grants) -> Response:
    """Revoke the grant of the token given; 400 invalid_token for an unknown or dead one."""
    if request.method != "POST":
        return OAuthError("invalid_request", "Method not allowed", status=405).response()
    value = request.form().get("token", "")
    if not grants.revoke(value):
        return OAuthError("invalid_token", "Token expired or revoked").response()
    return Response.json(200, {})


def userinfo(caller: Caller) -> Response:
    """OpenID Connect userinfo: `sub`, and `email` when the email scope was granted."""
    body: dict[str, object] = {"sub": subject(caller.user)}
    if USERINFO_EMAIL in caller.scopes:
        body.update({"email": caller.user, "email_verified": True})
    return Response.json(200, body)


def subject(user: str) -> str:
    """A stable numeric subject id for an address, shaped like Google's (21 digits)."""
    number = int.from_bytes(hashlib.sha256(user.lower().encode()).digest()[:8], "big")
    return "1" + str(number).zfill(20)[:20]


def _allowed_redirect(uri: str, extra: tuple[str, ...]) -> bool:
    parts = urlsplit(uri)
    if parts.scheme == "http" and (parts.hostname or "") in _LOOPBACK:
        return True
    return any(uri.startswith(prefix) for prefix in extra)


def _client(request: Request, form: dict[str, str]) -> tuple[str, str | None]:
    """(client id, secret) from HTTP Basic (google-auth-oauthlib) or the form (google-auth)."""
    header = request.header("authorization") or ""
    if header[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(header[6:], validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise OAuthError("invalid_client", "Unauthorized", status=401) from None
        client_id, _, secret = decoded.partition(":")
        return unquote_plus(client_id), unquote_plus(secret)
    return form.get("client_id", ""), form.get("client_secret")


def _id_token(access: AccessToken, secret: str) -> str:
    """A JWT with the claims Google's id_token carries, signed HS256 with the client secret."""
    now = int(time.time())
    claims = {
        "iss": "https://accounts.google.com",
        "azp": access.grant.client_id,
        "aud": access.grant.client_id,
        "sub": subject(access.grant.user),
        "iat": now,
        "exp": now + 3600,
    }
    if USERINFO_EMAIL in access.scopes:
        claims.update({"email": access.grant.user, "email_verified": True})
    header = {"alg": "HS256", "typ": "JWT"}
    signing = ".".join(
        _b64(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
    )
    signature = hmac.new(secret.encode(), signing.encode(), hashlib.sha256).digest()
    return signing + "." + _b64(signature)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _page(status: int, error: str, description: str) -> Response:
    """Google shows a page, not a redirect, when the client or redirect_uri is wrong."""
    text = f"Error {status}: {error}\n{description}\n"
    return Response(status, text.encode(), "text/plain; charset=utf-8")
