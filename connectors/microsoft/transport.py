"""How msal reaches a local emulator: https URLs of loopback hosts sent over plain http.

msal accepts only `https://` authorities and endpoints (it parses the tenant out of them), and
the sandbox (`keepwarm sandbox microsoft`) is plain http on 127.0.0.1. `LoopbackSession` is the
`requests.Session` msal is given as its `http_client` when the authority is a loopback one:
it rewrites `https://127.0.0.1:PORT/...` (and `localhost`, `[::1]`) to `http://` and leaves
every other URL alone, so it can never downgrade a request to a real host.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

__all__ = ["LoopbackSession", "is_loopback"]

_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def is_loopback(url: str) -> bool:
    """Whether `url` names a loopback host."""
    return (urlsplit(url).hostname or "") in _LOOPBACK


class LoopbackSession(requests.Session):
    """A requests session that sends https requests for loopback hosts over http."""

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        text = url.decode() if isinstance(url, bytes) else url
        parts = urlsplit(text)
        if parts.scheme == "https" and (parts.hostname or "") in _LOOPBACK:
            text = urlunsplit(("http", *parts[1:]))
        verb = method.decode() if isinstance(method, bytes) else method
        return super().request(verb, text, *args, **kwargs)
