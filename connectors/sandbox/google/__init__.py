"""A local emulator of Google OAuth 2.0, Gmail v1 and Calendar v3, for tests and benchmarks.

Production code never imports this. Start one seeded from real mailboxes and calendars::

    with GoogleSandbox([Path("tests/data/enron/delainey-d")]) as sandbox:
        sandbox.url  # http://127.0.0.1:PORT

and point the real libraries at it (only endpoints change):

- google-auth-oauthlib `Flow.from_client_config({"installed": {..., "auth_uri":
  url + "/o/oauth2/auth", "token_uri": url + "/token"}}, ...)`, with
  OAUTHLIB_INSECURE_TRANSPORT=1 (plain http).
- google-auth `Credentials(..., token_uri=url + "/token")`.
- googleapiclient `build("gmail", "v1", credentials=..., client_options={"api_endpoint":
  url + "/"})` and `build("calendar", "v3", ..., {"api_endpoint": url + "/calendar/v3/"})`;
  batches with `BatchHttpRequest(batch_uri=url + "/batch/gmail/v1")` (new_batch_http_request
  ignores api_endpoint) or `build_from_document` with `rootUrl` rewritten.

Modules, one idea each: `sandbox` (the class), `server` (HTTP), `app` (routing, faults, auth,
quota), `oauth`/`grants`/`scopes`, `gmail`/`mailbox`/`labels`/`threads`,
`calendar`/`events`/`event_json`, `batch`, `quota`, `faults`, `admin`, `seed`/`raw`, `errors`,
`pages`, `wire`, `serve`.
"""

from keepwarm.connectors.sandbox.google.faults import Fault, FaultKind
from keepwarm.connectors.sandbox.google.sandbox import GoogleSandbox
from keepwarm.connectors.sandbox.google.serve import CLIENT_ID, CLIENT_SECRET, serve

__all__ = ["CLIENT_ID", "CLIENT_SECRET", "Fault", "FaultKind", "GoogleSandbox", "serve"]
