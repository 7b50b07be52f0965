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

__all__ = ["LoopbackSession", "http_if_loopback", "is_loopback"]

_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def is_loopback(url: str) -> bool:
    """Whether `url` names a loopback host."""
    return (urlsplit(url).hostname or "") in _LOOPBACK


def http_if_loopback(url: str) -> str:
    """`url` with https replaced by http when it names a loopback host (what a browser must
    open to reach the sandbox's consent page); any other URL unchanged."""
    parts = urlsplit(url)
    if parts.scheme == "https" and (parts.hostname or "") in _LOOPBACK:
        return urlunsplit(("http", *parts[1:]))
    return url


class LoopbackSession(requests.Session):
    """A requests session that sends https requests for loopback hosts over http, and gives
    every request a timeout (`timeout` seconds) unless the caller set one: msal sets none."""

    def __init__(self, timeout: float | None = None) -> None:
        super().__init__()
        self.timeout = timeout

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        text = http_if_loopback(url.decode() if isinstance(url, bytes) else url)
        verb = method.decode() if isinstance(method, bytes) else method
        if self.timeout is not None:
            kwargs.setdefault("timeout", self.timeout)
        return super().request(verb, text, *args, **kwargs)
