"""`serve`: run a sandbox in the foreground until Ctrl-C (for `keepwarm sandbox microsoft`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from keepwarm.connectors.sandbox.lifecycle import serve_until_interrupted
from keepwarm.connectors.sandbox.microsoft.sandbox import MicrosoftSandbox

__all__ = ["CLIENT_ID", "serve"]

# Any client id works; this is what we suggest, shaped like an Entra application id.
CLIENT_ID = "6731de76-14a6-49ae-97bc-6eba6914391e"
# What `serve` prints, formatted with the running sandbox (`box`), its `stats` and msal's
# `authority`.
_BANNER = f"""\
Microsoft sandbox at {{box.url}}  (user {{box.user_email}})
  {{stats[messages]}} messages, {{stats[events]}} events
  client id:  {CLIENT_ID}  (any id is accepted; a secret is optional)
  authority:  {{authority}}  (msal: instance_discovery=False)
  Graph:      {{box.graph_url}}
  keepwarm connect microsoft --sandbox {{box.url}}
"""


def serve(seeds: Sequence[Path], port: int = 8081, user_email: str | None = None) -> None:
    """Seed a sandbox, print how to reach it, and serve until interrupted (Ctrl-C).

    Raises SourceMissing/UnknownFormat for a bad seed, ValueError when no user can be
    inferred, OSError when the port is taken.
    """
    sandbox = MicrosoftSandbox(seeds, user_email=user_email, port=port)
    serve_until_interrupted(sandbox, lambda: _banner(sandbox))


def _banner(sandbox: MicrosoftSandbox) -> str:
    return _BANNER.format(box=sandbox, stats=sandbox.stats(), authority=sandbox.authority())
