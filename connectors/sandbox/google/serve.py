"""`serve`: run a sandbox in the foreground until Ctrl-C (for `keepwarm sandbox google`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from keepwarm.connectors.sandbox.google.sandbox import GoogleSandbox
from keepwarm.connectors.sandbox.lifecycle import serve_until_interrupted

__all__ = ["CLIENT_ID", "CLIENT_SECRET", "serve"]

# Any client id works; these are what we suggest, shaped like Google's installed-app ids.
CLIENT_ID = "keepwarm-sandbox.apps.googleusercontent.com"
CLIENT_SECRET = "sandbox-secret"
# What `serve` prints, formatted with the running sandbox (`box`) and its `stats`.
_BANNER = f"""\
Google sandbox at {{box.url}}  (user {{box.user_email}})
  {{stats[messages]}} messages, {{stats[threads]}} threads, {{stats[events]}} events
  client id:     {CLIENT_ID}  (any id is accepted)
  client secret: {CLIENT_SECRET}
  auth_uri:  {{box.url}}/o/oauth2/auth
  token_uri: {{box.url}}/token
  Gmail api_endpoint: {{box.url}}/   Calendar: {{box.url}}/calendar/v3/
"""


def serve(seeds: Sequence[Path], port: int = 8080, user_email: str | None = None) -> None:
    """Seed a sandbox, print how to reach it, and serve until interrupted (Ctrl-C).

    Raises SourceMissing/UnknownFormat for a bad seed, ValueError when no user can be
    inferred, OSError when the port is taken.
    """
    sandbox = GoogleSandbox(seeds, user_email=user_email, port=port)
    serve_until_interrupted(sandbox, lambda: _BANNER.format(box=sandbox, stats=sandbox.stats()))
