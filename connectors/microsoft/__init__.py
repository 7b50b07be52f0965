"""Microsoft 365 and Outlook.com: consent through msal, mail and calendar metadata through
Graph v1.0 over httpx, as the provider-neutral streams of `connectors.base`.

Only endpoints differ between Microsoft and the local sandbox
(`keepwarm.connectors.sandbox.microsoft`; `MicrosoftEndpoints.for_base`); this package never
imports the sandbox. Modules: `provider` (the registry's entry; loads the rest only when
used, so a command that never talks to Microsoft never imports msal or httpx), `auth` (msal:
consent, token cache, refresh), `graph` (httpx: requests, limits, Retry-After, errors),
`mail` and `calendar` (the streams), `translate` (Graph resources to records), `sources` (an
account's sources), `transport` (msal to a loopback sandbox).
"""
