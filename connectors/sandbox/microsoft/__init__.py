"""A local emulator of the Microsoft identity platform and Graph v1.0 mail and calendar, for
tests, the demo and benchmarks.

Production code never imports this. Start one seeded from real mailboxes and calendars::

    with MicrosoftSandbox([Path("tests/data/enron/delainey-d")]) as sandbox:
        sandbox.url        # http://127.0.0.1:PORT
        sandbox.authority()  # https://127.0.0.1:PORT/common, for msal
        sandbox.graph_url  # http://127.0.0.1:PORT/v1.0

and point the real libraries at it (only endpoints change):

- msal: `ConfidentialClientApplication(client_id, client_credential=..., authority=
  sandbox.authority(), instance_discovery=False, http_client=<a requests.Session that sends
  https://127.0.0.1:PORT/... to http://127.0.0.1:PORT/...>)` (or PublicClientApplication).
  msal insists on https authorities and endpoints (api-facts, msal section), hence the
  session; keepwarm's connector has one (`keepwarm.connectors.microsoft`).
- httpx for Graph: `httpx.Client(base_url=sandbox.graph_url)`; the `@odata.nextLink` and
  `@odata.deltaLink` it returns are absolute URLs at the sandbox.

What it serves: OIDC discovery, authorize (approves the seeded user) and token (PKCE, rotating
refresh tokens, `id_token` with the request's nonce, `client_info`); `/me`; `/me/mailFolders`
and child folders; per-folder `messages/delta` (`$select`, `$orderby`, `$filter`, `changeType`,
`Prefer: odata.maxpagesize`, `@removed`, moves with new ids); `/me/calendarView/delta`
(occurrences, exceptions, cancellations); `$batch` (20); Outlook's limits (10,000 requests per
10 minutes and 4 at once per app and mailbox, 429 with `Retry-After`); 410 SyncStateNotFound;
faults on request.

Modules, one idea each: `sandbox` (the class), `app` (routing, auth, limits, faults),
`identity`/`grants`/`scopes`, `mail`/`mailbox`/`folders`/`message_json`,
`calendar`/`events`/`event_json`, `delta`, `batch`, `throttle`, `faults`, `admin`, `routes`,
`errors`, `wire`, `serve`. The HTTP server, request model and seed reading are the Google
sandbox's (`sandbox.google.server`, `.wire`, `.seed`).
"""

from keepwarm.connectors.sandbox.microsoft.faults import Fault, FaultKind
from keepwarm.connectors.sandbox.microsoft.sandbox import MicrosoftSandbox
from keepwarm.connectors.sandbox.microsoft.serve import CLIENT_ID, serve
from keepwarm.connectors.sandbox.microsoft.throttle import Limits

__all__ = ["CLIENT_ID", "Fault", "FaultKind", "Limits", "MicrosoftSandbox", "serve"]
