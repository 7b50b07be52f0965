"""Delegated permissions the sandbox knows, and the checks Graph makes against them.

Scopes may be asked for by short name (`Mail.ReadBasic`) or as the resource URI
(`https://graph.microsoft.com/Mail.ReadBasic`); both mean the same permission.
"""

from __future__ import annotations

from collections.abc import Iterable

from keepwarm.connectors.sandbox.microsoft.errors import AadError, access_denied

__all__ = [
    "CALENDAR_ANY",
    "CALENDAR_BODIES",
    "MAIL_ANY",
    "MAIL_BODIES",
    "OIDC",
    "USER_ANY",
    "normalize",
    "require",
]

GRAPH = "https://graph.microsoft.com/"
OIDC = frozenset({"openid", "profile", "email", "offline_access"})
MAIL_ANY = frozenset({"Mail.ReadBasic", "Mail.Read", "Mail.ReadWrite"})
MAIL_BODIES = frozenset({"Mail.Read", "Mail.ReadWrite"})  # ReadBasic never sees bodies
CALENDAR_ANY = frozenset({"Calendars.ReadBasic", "Calendars.Read", "Calendars.ReadWrite"})
CALENDAR_BODIES = frozenset({"Calendars.Read", "Calendars.ReadWrite"})
# Every permission that lets /me be read (User.Read is the usual one).
USER_ANY = frozenset({"User.Read", "User.ReadBasic.All", "User.Read.All", "User.ReadWrite"})
_KNOWN = {scope.lower(): scope for scope in MAIL_ANY | CALENDAR_ANY | USER_ANY | OIDC}


def normalize(requested: Iterable[str]) -> frozenset[str]:
    """The permissions asked for, by their short names.

    Raises AadError invalid_scope (AADSTS70011) for a name the sandbox does not know.
    """
    granted: set[str] = set()
    for scope in requested:
        name = scope[len(GRAPH) :] if scope.lower().startswith(GRAPH) else scope
        known = _KNOWN.get(name.lower())
        if known is None:
            raise AadError(
                "invalid_scope",
                70011,
                f"The provided request must include a 'scope' input parameter. The provided "
                f"value for the input parameter 'scope' is not valid: {scope}.",
            )
        granted.add(known)
    return frozenset(granted)


def require(granted: frozenset[str], any_of: frozenset[str], *, directory: bool = False) -> None:
    """Raises GraphError 403 unless one of `any_of` was granted."""
    if granted.isdisjoint(any_of):
        raise access_denied(directory=directory)
