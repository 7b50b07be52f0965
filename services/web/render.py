"""Rendering the dashboard's pages (Jinja2, autoescaped) with their security headers."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from keepwarm.services.web.context import current_session
from keepwarm.services.web.pages import PRIVATE_HEADERS

__all__ = ["DASHBOARD_HEADERS", "NAV", "render"]

# The dashboard's own stylesheet and script, nothing inline and nothing from elsewhere. No
# form-action: signing in posts here and is redirected to the provider's consent page, and
# browsers apply form-action to that redirect.
DASHBOARD_HEADERS = {
    **PRIVATE_HEADERS,
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}

NAV = (
    ("queue", "Queue"),
    ("dormant", "Dormant"),
    ("contacts", "Contacts"),
    ("intros", "Intros"),
    ("accounts", "Accounts"),
    ("settings", "Settings"),
)

_env = Environment(
    loader=PackageLoader("keepwarm.services.web", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(
    request: Request,
    template: str,
    *,
    title: str,
    active: str | None = None,
    status: int = 200,
    notice: str | None = None,
    **context: Any,
) -> HTMLResponse:
    """The page `dash/<template>` for this request's visitor (their CSRF token in every form)."""
    found = current_session(request)
    html = _env.get_template(f"dash/{template}").render(
        title=title,
        active=active,
        nav=NAV,
        notice=notice,
        csrf=found.csrf_token if found is not None else "",
        signed_in=found is not None and found.user_id is not None,
        **context,
    )
    return HTMLResponse(html, status_code=status, headers=DASHBOARD_HEADERS)
