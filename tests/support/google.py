"""The real Google client libraries, pointed at a sandbox: only endpoints differ from
production. This file is the reference for how keepwarm's adapters must be configured."""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import google.oauth2.credentials
import httplib2
from google_auth_httplib2 import AuthorizedHttp
from google_auth_oauthlib.flow import Flow
from googleapiclient.discovery import build, build_from_document
from googleapiclient.discovery_cache import get_static_doc

from keepwarm.connectors.sandbox.google import GoogleSandbox
from tests.support.paths import REPO

AUTH = "https://www.googleapis.com/auth/"
SCOPES = [
    "openid",
    AUTH + "userinfo.email",
    AUTH + "gmail.metadata",
    AUTH + "calendar.readonly",
]
CLIENT_ID = "test-client.apps.googleusercontent.com"
CLIENT_SECRET = "test-secret"
REDIRECT = "http://127.0.0.1:8765/"


class ManualClock:
    """A monotonic clock for the sandbox's quota windows and token expiry."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def flow(sandbox: GoogleSandbox, scopes: list[str] | None = None) -> Flow:
    """google-auth-oauthlib's installed-app flow with the sandbox's endpoints."""
    config = {
        "installed": {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "auth_uri": sandbox.url + "/o/oauth2/auth",
            "token_uri": sandbox.url + "/token",
            "redirect_uris": [REDIRECT],
        }
    }
    return Flow.from_client_config(config, scopes=scopes or SCOPES, redirect_uri=REDIRECT)


def click(url: str) -> tuple[int, dict[str, list[str]]]:
    """What a browser does with the consent URL: GET it, do not follow the redirect. Returns
    the status and the redirect's query parameters (code, state, scope or error)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=5)
    try:
        connection.request("GET", f"{parts.path}?{parts.query}")
        response = connection.getresponse()
        response.read()
        location = response.getheader("Location") or ""
    finally:
        connection.close()
    return response.status, parse_qs(urlsplit(location).query)


def authorize(sandbox: GoogleSandbox, scopes: list[str] | None = None) -> Any:
    """A full PKCE consent: authorization URL, the user's click, code exchange.
    Returns google.oauth2.credentials.Credentials with a refresh token."""
    consent = flow(sandbox, scopes)
    url, state = consent.authorization_url(access_type="offline", prompt="consent")
    status, params = click(url)
    assert status == 302, params
    assert params["state"] == [state]
    consent.fetch_token(code=params["code"][0])
    return consent.credentials


def credentials(sandbox: GoogleSandbox, refresh_token: str, scopes: list[str] | None = None) -> Any:
    """Credentials rebuilt from a stored refresh token (construct directly: from_authorized_
    user_info would force Google's real token_uri)."""
    return google.oauth2.credentials.Credentials(
        None,
        refresh_token=refresh_token,
        token_uri=sandbox.url + "/token",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        scopes=scopes or SCOPES,
    )


def document(name: str, version: str, root: str, batch_path: str | None = None) -> dict[str, Any]:
    """The discovery document bundled in googleapiclient, with rootUrl (and batchPath) moved."""
    text = get_static_doc(name, version)
    assert text is not None
    doc: dict[str, Any] = json.loads(text)
    doc["rootUrl"] = root
    if batch_path is not None:
        doc["batchPath"] = batch_path
    return doc


def gmail_service(sandbox: GoogleSandbox, creds: Any, *, timeout: float | None = None) -> Any:
    """Gmail via build_from_document; its batches go to /batch/gmail/v1 (Google's documented
    per-API batch path) because batchPath is rewritten along with rootUrl."""
    http = AuthorizedHttp(creds, http=httplib2.Http(timeout=timeout))
    doc = document("gmail", "v1", sandbox.url + "/", batch_path="batch/gmail/v1")
    return build_from_document(doc, http=http)


def gmail_by_endpoint(sandbox: GoogleSandbox, creds: Any) -> Any:
    """Gmail via build() and client_options: the way production code will construct it."""
    return build(
        "gmail",
        "v1",
        credentials=creds,
        client_options={"api_endpoint": sandbox.url + "/"},
        static_discovery=True,
    )


def calendar_service(sandbox: GoogleSandbox, creds: Any) -> Any:
    """Calendar v3 via build() with api_endpoint = sandbox + /calendar/v3/ (the service path)."""
    return build(
        "calendar",
        "v3",
        credentials=creds,
        client_options={"api_endpoint": sandbox.url + "/calendar/v3/"},
        static_discovery=True,
    )


def raw_get(
    sandbox: GoogleSandbox, path: str, token: str | None
) -> tuple[int, dict[str, str], Any]:
    """A plain GET (no client library): status, headers (lower case), JSON body."""
    parts = urlsplit(sandbox.url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=5)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    found = {name.lower(): value for name, value in response.getheaders()}
    return response.status, found, json.loads(body) if body else None


def post_json(sandbox: GoogleSandbox, path: str, payload: object) -> tuple[int, Any]:
    """POST JSON to the sandbox (the admin endpoints); status and JSON body."""
    parts = urlsplit(sandbox.url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=5)
    try:
        connection.request(
            "POST", path, body=json.dumps(payload), headers={"Content-Type": "application/json"}
        )
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    return response.status, json.loads(body)


def post_form(sandbox: GoogleSandbox, path: str, form: dict[str, str]) -> tuple[int, Any]:
    """POST a url-encoded form (the token and revocation endpoints); status and JSON body."""
    from urllib.parse import urlencode

    parts = urlsplit(sandbox.url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=5)
    try:
        connection.request(
            "POST",
            path,
            body=urlencode(form),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    return response.status, json.loads(body)


def discovery(name: str) -> dict[str, Any]:
    """The shared copy of a discovery document (the same bytes the client library bundles)."""
    path = REPO.parent / "shared" / "data" / "api" / "google-discovery" / f"{name}.json"
    if not path.is_file():  # fall back to the copy inside googleapiclient
        from googleapiclient.discovery_cache import get_static_doc

        text = get_static_doc(*name.split("."))
        assert text is not None
        return dict(json.loads(text))
    return dict(json.loads(path.read_text()))
