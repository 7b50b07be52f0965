"""Microsoft's side of the tests: the real msal and httpx pointed at the Microsoft sandbox
(only endpoints differ from production), keepwarm's own consent against it, (the CLI's side is in
`tests.support.microsoft_sync`)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import httpx
import msal

from keepwarm.connectors.base import Grant
from keepwarm.connectors.microsoft.auth import MicrosoftAuth, MicrosoftEndpoints
from keepwarm.connectors.microsoft.transport import LoopbackSession
from keepwarm.connectors.sandbox.microsoft import MicrosoftSandbox
from tests.support.paths import ENRON, RECUR, TEST_DATA

__all__ = [
    "CALENDAR_WINDOW",
    "CANCELLED",
    "CLIENT_ID",
    "MICROSOFT_SEEDS",
    "REDIRECT",
    "SCOPES",
    "browse",
    "connect",
    "connector_auth",
    "consent",
    "consent_as",
    "form_fields",
    "graph",
    "msal_app",
    "read_round",
    "start_consent",
]

# A recurring series with one occurrence cancelled (STATUS:CANCELLED on its RECURRENCE-ID).
CANCELLED = TEST_DATA / "ics" / "recurring-ical-events" / "issue_18_cancel_status.ics"
# What the Microsoft sandboxes of the connector tests are seeded with by default.
MICROSOFT_SEEDS = (ENRON, RECUR, CANCELLED)
# The window the sandbox expands recurring events over: fixed, so an unbounded series gives the
# same occurrences on any day the suite runs.
CALENDAR_WINDOW = (
    datetime(2026, 11, 30, tzinfo=UTC) - timedelta(days=365 * 30),
    datetime(2026, 11, 30, tzinfo=UTC) + timedelta(days=365),
)
CLIENT_ID = "0e9c6f1a-5b2d-4c5e-9f3a-1d2c3b4a5f6e"
SCOPES = ["Mail.ReadBasic", "Calendars.ReadBasic", "User.Read"]
REDIRECT = "http://localhost:8765/"
_INPUT = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)" />')


def msal_app(
    sandbox: MicrosoftSandbox,
    *,
    secret: str | None = None,
    cache: msal.TokenCache | None = None,
    tenant: str = "common",
    client_id: str = CLIENT_ID,
) -> msal.ClientApplication:
    """A fresh msal app (fresh: msal's HTTP throttle cache lives per app) on the sandbox's
    authority, without instance discovery, reaching it through LoopbackSession."""
    options: dict[str, Any] = {
        "authority": sandbox.authority(tenant),
        "instance_discovery": False,
        "http_client": LoopbackSession(),
        "token_cache": cache,
    }
    if secret is not None:
        return msal.ConfidentialClientApplication(client_id, client_credential=secret, **options)
    return msal.PublicClientApplication(client_id, **options)


def start_consent(app: msal.ClientApplication, scopes: list[str] | None = None) -> dict[str, Any]:
    """msal's auth-code flow with PKCE, answered by form_post (what msal recommends)."""
    return dict(
        app.initiate_auth_code_flow(
            scopes or SCOPES, redirect_uri=REDIRECT, response_mode="form_post"
        )
    )


def browse(url: str) -> httpx.Response:
    """What a browser does with the consent URL (https on loopback is the sandbox's http)."""
    return httpx.get(url.replace("https://", "http://", 1), follow_redirects=False, timeout=5)


def form_fields(page: str) -> dict[str, str]:
    """The hidden fields a form_post page would POST to the redirect URI."""
    return {name: unescape(value) for name, value in _INPUT.findall(page)}


def consent(
    sandbox: MicrosoftSandbox, *, secret: str | None = None, scopes: list[str] | None = None
) -> tuple[msal.ClientApplication, dict[str, Any]]:
    """A full consent: (the msal app, msal's token result with an access token)."""
    app = msal_app(sandbox, secret=secret)
    flow = start_consent(app, scopes)
    page = browse(flow["auth_uri"])
    assert page.status_code == 200, page.text
    result = app.acquire_token_by_auth_code_flow(flow, form_fields(page.text))
    assert "access_token" in result, result
    return app, dict(result)


def consent_as(sandbox: MicrosoftSandbox, client_id: str) -> str:
    """An access token of another app id's consent (Outlook's limits are per app)."""
    app = msal_app(sandbox, client_id=client_id)
    flow = start_consent(app)
    result = app.acquire_token_by_auth_code_flow(flow, form_fields(browse(flow["auth_uri"]).text))
    return str(result["access_token"])


def graph(sandbox: MicrosoftSandbox, token: str) -> httpx.Client:
    """An httpx client on the sandbox's Graph with a bearer token."""
    return httpx.Client(
        base_url=sandbox.graph_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


def read_round(
    client: httpx.Client, url: str, *, page_size: int | None = None
) -> tuple[list[dict[str, Any]], str, int]:
    """Follow a delta round to its end: (every entry, the deltaLink, pages read)."""
    headers = {"Prefer": f"odata.maxpagesize={page_size}"} if page_size else {}
    entries: list[dict[str, Any]] = []
    pages = 0
    while True:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        entries.extend(body["value"])
        pages += 1
        if "@odata.nextLink" in body:
            url = body["@odata.nextLink"]
            continue
        return entries, body["@odata.deltaLink"], pages


def connector_auth(sandbox: MicrosoftSandbox, secret: str | None = None) -> MicrosoftAuth:
    """keepwarm's MicrosoftAuth pointed at the sandbox (as `--sandbox URL` does)."""
    return MicrosoftAuth(CLIENT_ID, secret, endpoints=MicrosoftEndpoints.for_base(sandbox.url))


def connect(sandbox: MicrosoftSandbox, secret: str | None = None) -> tuple[MicrosoftAuth, Grant]:
    """keepwarm's consent against the sandbox, the person's browser played by httpx."""
    auth = connector_auth(sandbox, secret)
    request = auth.begin_consent(REDIRECT)
    page = httpx.get(request.url, timeout=5)
    assert page.status_code == 200, page.text
    return auth, auth.finish_consent(request, form_fields(page.text))
