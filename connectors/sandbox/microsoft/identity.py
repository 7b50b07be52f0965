"""The Microsoft identity platform (v2.0) as msal uses it, for one tenant and one user.

- `GET /{tenant}/v2.0/.well-known/openid-configuration`: the discovery document msal reads
  when it is built (`instance_discovery=False`). Its endpoints are `https://<Host>/...`: msal
  refuses any other scheme, so a client reaches the plain-http sandbox through a transport that
  sends those URLs to loopback over http (see `keepwarm.connectors.microsoft`).
- `GET /{tenant}/oauth2/v2.0/authorize`: approves the sandbox's user and sends `code`,
  `state`, `client_info` and `session_state` to the loopback `redirect_uri`: in the query of a
  302, or with `response_mode=form_post` (what msal recommends) as a page that POSTs them.
- `POST /{tenant}/oauth2/v2.0/token`: `authorization_code` (PKCE S256 checked when a challenge
  was sent) and `refresh_token` grants; rotating refresh tokens; an `id_token` echoing the
  authorization request's `nonce` (msal compares it) and `client_info` (`{"uid","utid"}`, which
  msal needs to cache an account and refresh silently).
- `GET /{tenant}/discovery/v2.0/keys`: the (empty) key set the document points to.

`{tenant}` may be `common`, `organizations`, `consumers`, the tenant id or the user's domain.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import re
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from keepwarm.connectors.sandbox.google.wire import Request, Response
from keepwarm.connectors.sandbox.microsoft.errors import AadError
from keepwarm.connectors.sandbox.microsoft.grants import AccessToken, Grants
from keepwarm.connectors.sandbox.microsoft.scopes import normalize
from keepwarm.connectors.sandbox.microsoft.wire import json_response

__all__ = ["IDENTITY_PATH", "Directory", "authorize", "discovery", "keys", "match", "token"]

IDENTITY_PATH = re.compile(
    r"^/([^/]+)/(v2\.0/\.well-known/openid-configuration|oauth2/v2\.0/authorize|"
    r"oauth2/v2\.0/token|discovery/v2\.0/keys)$"
)
_GENERIC_TENANTS = {"common", "organizations", "consumers"}
_LOOPBACK = ("127.0.0.1", "localhost", "::1")
# The identity platform signs id_tokens with RS256 keys from jwks_uri; msal does not check the
# signature (since 1.38), so the sandbox signs with a fixed secret and publishes no keys.
_SIGNING_KEY = b"keepwarm-microsoft-sandbox"


@dataclass(frozen=True, slots=True)
class Directory:
    """The tenant and the user's directory identity, derived from the user's address."""

    user: str
    name: str | None

    @property
    def tenant_id(self) -> str:
        """The tenant's id: a GUID stable for the user's domain."""
        return str(uuid.uuid5(uuid.NAMESPACE_DNS, "tenant." + self.domain))

    @property
    def object_id(self) -> str:
        """The user's object id (`oid`, client_info's `uid`)."""
        return str(uuid.uuid5(uuid.NAMESPACE_DNS, "user." + self.user))

    @property
    def domain(self) -> str:
        return self.user.rpartition("@")[2]

    def knows_tenant(self, tenant: str) -> bool:
        """Whether `tenant` names this directory (or a generic authority)."""
        return tenant.lower() in _GENERIC_TENANTS | {self.tenant_id, self.domain}


def match(path: str) -> tuple[str, str] | None:
    """(tenant, endpoint) for an identity path; None for anything else."""
    found = IDENTITY_PATH.match(path)
    return (found.group(1), found.group(2)) if found else None


def discovery(request: Request, directory: Directory, tenant: str) -> Response:
    """The OpenID Connect discovery document of `tenant`."""
    if not directory.knows_tenant(tenant):
        return _unknown_tenant(tenant)
    root = "https://" + (request.header("host") or "127.0.0.1")
    issuer_tenant = "{tenantid}" if tenant.lower() in _GENERIC_TENANTS else directory.tenant_id
    base = f"{root}/{tenant}"
    document = {
        "token_endpoint": f"{base}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": [
            "client_secret_post",
            "private_key_jwt",
            "client_secret_basic",
        ],
        "jwks_uri": f"{base}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": f"https://login.microsoftonline.com/{issuer_tenant}/v2.0",
        "request_uri_parameter_supported": False,
        "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
        "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
        "claims_supported": [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "nonce",
            "preferred_username",
            "name",
            "tid",
            "ver",
            "oid",
        ],
        "tenant_region_scope": "NA",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    }
    return json_response(200, document, odata=False)


def keys(directory: Directory, tenant: str) -> Response:
    """The signing keys document (empty: see _SIGNING_KEY)."""
    if not directory.knows_tenant(tenant):
        return _unknown_tenant(tenant)
    return json_response(200, {"keys": []}, odata=False)


def authorize(
    request: Request,
    grants: Grants,
    directory: Directory,
    tenant: str,
    *,
    extra_redirects: tuple[str, ...],
) -> Response:
    """The sign-in and consent step: a 302 to redirect_uri with a code (or `error`); a page
    with status 400 when the client or the redirect itself is wrong."""
    if not directory.knows_tenant(tenant):
        return _unknown_tenant(tenant)
    client_id = request.param("client_id") or ""
    redirect_uri = request.param("redirect_uri") or ""
    if not client_id:
        return _page(
            400, 900144, "The request body must contain the following parameter: 'client_id'."
        )
    if not _allowed_redirect(redirect_uri, extra_redirects):
        return _page(
            400,
            50011,
            f"The redirect URI '{redirect_uri}' specified in the request does not match the "
            f"redirect URIs configured for the application '{client_id}'.",
        )
    state = request.param("state")
    form_post = request.param("response_mode") == "form_post"

    def back(**params: str) -> Response:
        if state is not None:
            params["state"] = state
        if form_post:
            return _form_post(redirect_uri, params)
        joiner = "&" if urlsplit(redirect_uri).query else "?"
        location = redirect_uri + joiner + urlencode(params)
        return Response(302, b"", "text/html; charset=utf-8", (("Location", location),))

    if request.param("response_type") != "code":
        return back(
            error="unsupported_response_type",
            error_description="AADSTS70005: The 'response_type' is not supported.",
        )
    try:
        scopes = normalize((request.param("scope") or "").split())
    except AadError as exc:
        return back(error=exc.error, error_description=exc.description)
    challenge = request.param("code_challenge")
    if challenge is not None and request.param("code_challenge_method") != "S256":
        return back(
            error="invalid_request",
            error_description="AADSTS501491: Invalid size of Code_Challenge parameter.",
        )
    if grants.consent_blocked is not None:
        return back(
            error="access_denied",
            error_description="AADSTS65004: User declined to consent to access the app.",
        )
    code = grants.issue_code(
        client_id=client_id,
        redirect_uri=redirect_uri,
        scopes=scopes,
        challenge=challenge,
        nonce=request.param("nonce"),
    )
    params = {"code": code}
    if request.param("client_info") == "1":
        params["client_info"] = client_info(directory)
    params["session_state"] = str(uuid.uuid4())
    return back(**params)


def token(request: Request, grants: Grants, directory: Directory, tenant: str) -> Response:
    """The token endpoint; errors are the identity platform's JSON bodies."""
    if not directory.knows_tenant(tenant):
        return _unknown_tenant(tenant)
    if request.method != "POST":
        return AadError(
            "invalid_request", 900561, "The endpoint only accepts POST requests.", status=405
        ).response()
    form = request.form()
    try:
        client_id, secret = _client(request, form)
        grants.check_client(client_id, secret)
        grant_type = form.get("grant_type", "")
        nonce: str | None = None
        if grant_type == "authorization_code":
            access, refresh, nonce = grants.redeem(
                form.get("code", ""),
                client_id=client_id,
                redirect_uri=form.get("redirect_uri"),
                verifier=form.get("code_verifier"),
            )
        elif grant_type == "refresh_token":
            scope = form.get("scope")
            wanted = normalize(scope.split()) if scope else None
            access, refresh = grants.refresh(
                form.get("refresh_token", ""), client_id=client_id, scopes=wanted
            )
        else:
            raise AadError(
                "unsupported_grant_type",
                70003,
                f"The app requested an unsupported grant type '{grant_type}'.",
            )
    except AadError as exc:
        return exc.response()
    body: dict[str, object] = {
        "token_type": "Bearer",
        "scope": " ".join(sorted(access.scopes - {"offline_access"})),
        "expires_in": max(int(grants.access_lifetime) - 1, 1),
        "ext_expires_in": max(int(grants.access_lifetime) - 1, 1),
        "access_token": access.token,
    }
    if "offline_access" in access.grant.scopes:
        body["refresh_token"] = refresh
    if "openid" in access.grant.scopes:
        body["id_token"] = id_token(access, directory, nonce)
    if form.get("client_info") == "1":
        body["client_info"] = client_info(directory)
    return json_response(200, body, (("Cache-Control", "no-store, no-cache"),), odata=False)


def client_info(directory: Directory) -> str:
    """base64url `{"uid": object id, "utid": tenant id}`, msal's key to the account."""
    raw = json.dumps({"uid": directory.object_id, "utid": directory.tenant_id}).encode()
    return _b64(raw)


def id_token(access: AccessToken, directory: Directory, nonce: str | None) -> str:
    """A v2.0 id_token with the claims the identity platform puts in one."""
    now = int(time.time())
    claims: dict[str, object] = {
        "aud": access.grant.client_id,
        "iss": f"https://login.microsoftonline.com/{directory.tenant_id}/v2.0",
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "name": directory.name or directory.user,
        "oid": directory.object_id,
        "preferred_username": directory.user,
        "sub": _b64(
            hashlib.sha256(f"{access.grant.client_id}:{directory.object_id}".encode()).digest()[:24]
        ),
        "tid": directory.tenant_id,
        "uti": _b64(uuid.uuid4().bytes),
        "ver": "2.0",
    }
    if nonce is not None:
        claims["nonce"] = nonce
    if "email" in access.grant.scopes:
        claims["email"] = directory.user
    header = {"typ": "JWT", "alg": "HS256", "kid": "keepwarm-sandbox"}
    signing = ".".join(
        _b64(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
    )
    signature = hmac.new(_SIGNING_KEY, signing.encode(), hashlib.sha256).digest()
    return signing + "." + _b64(signature)


def _client(request: Request, form: dict[str, str]) -> tuple[str, str | None]:
    """(client id, secret or None) from the form (msal) or HTTP Basic."""
    header = request.header("authorization") or ""
    if header[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(header[6:], validate=True).decode()
        except ValueError:
            raise AadError(
                "invalid_client", 7000215, "Invalid client secret provided.", status=401
            ) from None
        client_id, _, secret = decoded.partition(":")
        return client_id, secret
    return form.get("client_id", ""), form.get("client_secret")


def _allowed_redirect(uri: str, extra: tuple[str, ...]) -> bool:
    parts = urlsplit(uri)
    if parts.scheme == "http" and (parts.hostname or "") in _LOOPBACK:
        return True  # loopback redirects: any port, as for desktop and CLI apps
    return any(uri.startswith(prefix) for prefix in extra)


def _form_post(redirect_uri: str, params: dict[str, str]) -> Response:
    """`response_mode=form_post`: a page whose script POSTs the answer to the redirect URI,
    as the identity platform sends it (the code never appears in a URL)."""
    fields = "".join(
        f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}" />'
        for name, value in params.items()
    )
    page = (
        "<html><head><title>Working...</title></head><body>"
        f'<form method="POST" name="hiddenform" action="{html.escape(redirect_uri)}">'
        f"{fields}<noscript><p>Script is disabled. Click Submit to continue.</p>"
        '<input type="submit" value="Submit" /></noscript></form>'
        '<script language="javascript">document.forms[0].submit();</script></body></html>'
    )
    return Response(200, page.encode(), "text/html; charset=utf-8")


def _unknown_tenant(tenant: str) -> Response:
    return AadError(
        "invalid_tenant",
        90002,
        f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and "
        "are signing into the correct cloud.",
    ).response()


def _page(status: int, code: int, text: str) -> Response:
    """The identity platform shows a page, not a redirect, for a bad client or redirect_uri."""
    body = f"Sign in\nSorry, but we're having trouble signing you in.\nAADSTS{code}: {text}\n"
    return Response(status, body.encode(), "text/html; charset=utf-8")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")
