"""Errors a connector raises when it cannot even start reading a source.

Bad *content* (a garbled message, a broken calendar) is never an exception: connectors yield
`connectors.types.Unreadable` for it and carry on. These exceptions are for sources that cannot be
read at all, raised before anything is yielded so the caller can tell the user straight away::

    ConnectorError                  root: catch this to handle every connector failure
    ├── SourceMissing(path)         the path does not exist
    ├── UnknownFormat(path)         the path exists but is no mailbox or calendar we know
    ├── ConsentRefused              the person declined, the OAuth state did not match, or the
    │                               provider refused the authorization code
    └── ProviderError               a provider call failed, classified once, here:
        ├── AuthExpired             grant revoked or expired: mark "reconnect needed", no retry
        ├── RateLimited(retry_after)  slow down: retry after the given seconds
        ├── CursorExpired           Gmail 404 / Calendar 410: resync in full
        ├── ProviderUnavailable     5xx, timeout, reset: retry with backoff
        └── PermanentProviderError  any other refusal: fail the record or the run

Each carries what the caller needs to act on it and a one-line message for the user.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "AuthExpired",
    "ConnectorError",
    "ConsentRefused",
    "CursorExpired",
    "PermanentProviderError",
    "ProviderError",
    "ProviderUnavailable",
    "RateLimited",
    "SourceMissing",
    "UnknownFormat",
]

KNOWN_FORMATS = "mbox, maildir, folder of .eml/RFC 822 files, .eml, .ics"


class ConnectorError(Exception):
    """Root of every error a connector raises; the message is one line meant for the user."""


class SourceMissing(ConnectorError):
    """The path given as a source does not exist."""

    def __init__(self, path: Path) -> None:
        # args stay (path,) so the exception pickles and re-raises unchanged across processes.
        super().__init__(path)
        self.path = path

    def __str__(self) -> str:
        return f"no such file or folder: {self.path}"


class UnknownFormat(ConnectorError):
    """The path exists but is not a mailbox or calendar format we can read."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.path = path

    def __str__(self) -> str:
        return f"not a mailbox or calendar ({KNOWN_FORMATS}): {self.path}"


class ConsentRefused(ConnectorError):
    """A consent that did not give a grant: declined, a foreign `state`, or a refused code."""


class ProviderError(ConnectorError):
    """A provider call failed; each subclass has one handling in the workers."""


class AuthExpired(ProviderError):
    """The grant was revoked or expired (`invalid_grant`): the user must reconnect; never retry."""


class RateLimited(ProviderError):
    """The provider asked us to slow down; retry after `retry_after` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class CursorExpired(ProviderError):
    """The sync cursor is no longer valid (Gmail 404, Calendar 410): resync in full."""


class ProviderUnavailable(ProviderError):
    """A transient failure (5xx, timeout, connection reset): retry with backoff."""


class PermanentProviderError(ProviderError):
    """The provider refused the request for good (a 4xx we cannot fix by retrying)."""
