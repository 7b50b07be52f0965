"""OAuth scopes the sandbox knows, and the checks Gmail and Calendar make against them."""

from __future__ import annotations

from collections.abc import Iterable

from keepwarm.connectors.sandbox.google.errors import ApiError

__all__ = [
    "CALENDAR_EVENTS",
    "CALENDAR_LIST",
    "GMAIL_METADATA",
    "GMAIL_READ",
    "KNOWN",
    "OPENID",
    "USERINFO_EMAIL",
    "normalize",
    "require",
]

_AUTH = "https://www.googleapis.com/auth/"
GMAIL_METADATA = _AUTH + "gmail.metadata"
GMAIL_READ = frozenset(
    {GMAIL_METADATA, _AUTH + "gmail.readonly", _AUTH + "gmail.modify", "https://mail.google.com/"}
)
CALENDAR_LIST = frozenset(
    {
        _AUTH + "calendar",
        _AUTH + "calendar.readonly",
        _AUTH + "calendar.calendarlist",
        _AUTH + "calendar.calendarlist.readonly",
    }
)
CALENDAR_EVENTS = frozenset(
    {
        _AUTH + "calendar",
        _AUTH + "calendar.readonly",
        _AUTH + "calendar.events",
        _AUTH + "calendar.events.readonly",
    }
)
OPENID = "openid"
USERINFO_EMAIL = _AUTH + "userinfo.email"
USERINFO_PROFILE = _AUTH + "userinfo.profile"
# Google grants the short OpenID Connect names under their long ones, so a client asking for
# "email" gets ".../userinfo.email" back (and oauthlib warns that the scope changed).
_ALIASES = {"email": USERINFO_EMAIL, "profile": USERINFO_PROFILE}
KNOWN = GMAIL_READ | CALENDAR_LIST | CALENDAR_EVENTS | {OPENID, USERINFO_EMAIL, USERINFO_PROFILE}


def normalize(requested: Iterable[str]) -> tuple[frozenset[str], list[str]]:
    """(granted scopes, unknown ones) for a requested scope list."""
    granted: set[str] = set()
    unknown: list[str] = []
    for scope in requested:
        name = _ALIASES.get(scope, scope)
        if name in KNOWN:
            granted.add(name)
        else:
            unknown.append(scope)
    return frozenset(granted), unknown


def require(granted: frozenset[str], any_of: frozenset[str]) -> None:
    """Raises ApiError 403 insufficientPermissions unless one of `any_of` was granted."""
    if granted.isdisjoint(any_of):
        raise ApiError(
            403,
            "Request had insufficient authentication scopes.",
            "insufficientPermissions",
            detail="Insufficient Permission",
            headers=(
                (
                    "WWW-Authenticate",
                    'Bearer realm="https://accounts.google.com/", error="insufficient_scope"',
                ),
            ),
        )
