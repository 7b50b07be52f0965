"""Google: OAuth with PKCE, Gmail metadata and Calendar, through Google's own client libraries.

Only endpoints differ between Google and the local sandbox (`keepwarm.connectors.sandbox.google`);
this package never imports the sandbox.
"""

from keepwarm.connectors.google.auth import GoogleClient, GoogleEndpoints, GrantedTokens
from keepwarm.connectors.google.calendar import CalendarReader
from keepwarm.connectors.google.gmail import GmailReader

__all__ = ["CalendarReader", "GmailReader", "GoogleClient", "GoogleEndpoints", "GrantedTokens"]
