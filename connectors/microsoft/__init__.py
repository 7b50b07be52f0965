"""Microsoft 365 and Outlook.com: consent through msal, mail and calendar metadata through
Graph v1.0 over httpx, as the provider-neutral streams of `connectors.base`.

Only endpoints differ between Microsoft and the local sandbox
(`keepwarm.connectors.sandbox.microsoft`; `MicrosoftEndpoints.for_base`); this package never
imports the sandbox. Modules: `auth` (msal: consent, token cache, refresh), `graph` (httpx:
requests, limits, Retry-After, errors), `mail` and `calendar` (the streams), `translate`
(Graph resources to records), `sources` (an account's sources), `transport` (msal to a
loopback sandbox).
"""

from keepwarm.connectors.microsoft.auth import SCOPES, MicrosoftAuth, MicrosoftEndpoints
from keepwarm.connectors.microsoft.calendar import GraphCalendarSource
from keepwarm.connectors.microsoft.graph import GraphClient
from keepwarm.connectors.microsoft.mail import GraphMailSource
from keepwarm.connectors.microsoft.sources import open_microsoft

__all__ = [
    "SCOPES",
    "GraphCalendarSource",
    "GraphClient",
    "GraphMailSource",
    "MicrosoftAuth",
    "MicrosoftEndpoints",
    "open_microsoft",
]
