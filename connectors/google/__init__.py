"""Google: OAuth with PKCE, Gmail metadata and Calendar, through Google's own client libraries.

Only endpoints differ between Google and the local sandbox (`connectors.sandbox.google`);
this package never imports the sandbox. Importing the package is cheap: its names load the
Google libraries (about 0.3 s) only when first used, so a command that never talks to Google
never pays for them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from keepwarm.connectors.google.auth import GoogleClient, GoogleEndpoints, GrantedTokens
    from keepwarm.connectors.google.calendar import CalendarReader
    from keepwarm.connectors.google.gmail import GmailReader
    from keepwarm.connectors.google.provider import GoogleProvider

__all__ = [
    "CalendarReader",
    "GmailReader",
    "GoogleClient",
    "GoogleEndpoints",
    "GoogleProvider",
    "GrantedTokens",
]

_HOMES = {
    "GoogleClient": "auth",
    "GoogleEndpoints": "auth",
    "GrantedTokens": "auth",
    "CalendarReader": "calendar",
    "GmailReader": "gmail",
    "GoogleProvider": "provider",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
