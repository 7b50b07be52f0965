"""Every error keepwarm raises on purpose, in one place, and how each boundary translates it.

Errors a person can act on derive from `AppError` (here and in the domains) or from the
connectors' `ConnectorError`; their message is one line meant for that person. The CLI's
`main` and the web app each translate them in one handler (the web: `services.web.errors`, an
HTML page or, under /api/, JSON with a stable `code` and the `field` at fault); anything else
reaching a boundary is a bug, reported as "internal error" (CLI exit 1, HTTP 500) without a
traceback::

    AppError                              services: the domain and its use cases
    ├── InvalidInput                      an argument, file or field we cannot use    exit 2 · 400
    │   └── UsageError (workers.cli)      a command-line option that cannot be used   exit 2
    ├── NotFound                          no such record for this user                exit 2 · 404
    ├── Conflict                          contradicts what is stored                  exit 2 · 409
    ├── NotSignedIn                       the web: no session or API token            401
    ├── PermissionDenied                  not allowed for this person                 exit 2 · 403
    │   ├── SignUpRefused (accounts.signin)  the operator does not admit this address 403
    │   └── CsrfFailed (accounts.sessions)   a form or call without its session's token 403
    ├── TokenKeyError (core.crypto)       a key missing, empty, short or wrong        exit 2 · 500
    ├── LinkError (notify.links)          a link altered or not ours                  400
    │   ├── LinkExpired                   older than its lifetime                     410
    │   ├── LinkUsed                      already acted                               409
    │   └── LinkTargetGone                its user no longer exists                   404
    └── SendFailed (notify.mailer)        the mail server refused (permanent or not): recorded
                                          on the delivery and retried by the outbox, never raised
                                          to a person

    ConnectorError                        connectors: reading sources (connectors.errors)
    ├── SourceMissing, UnknownFormat      a path that is no mailbox or calendar       exit 2
    ├── ConsentRefused                    declined, foreign OAuth state, refused code exit 2 · 400
    └── ProviderError                     a provider call failed, classified once:
        ├── AuthExpired                   grant revoked: account "reconnect needed", never retried
        ├── RateLimited(retry_after)      waited out without spending retries
        ├── CursorExpired                 that stream is read again in full
        ├── ProviderUnavailable           retried with backoff                        exit 1 · 503
        └── PermanentProviderError        the run fails and says so                   exit 1 · 502

Control flow, never shown to a person: `SyncStopped` (accounts.sync: the account was
disconnected mid-run), `LeaseLost` (core.locks: another worker took the account over).
"""

from __future__ import annotations

__all__ = ["AppError", "Conflict", "InvalidInput", "NotFound", "NotSignedIn", "PermissionDenied"]


class AppError(Exception):
    """Root of every error keepwarm reports to a person; its message is one line."""


class InvalidInput(AppError):
    """Raised when an argument, file or field cannot be used; `field` names it when known."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFound(AppError):
    """Raised when the requested record does not exist for this user."""


class Conflict(AppError):
    """Raised when a request contradicts what is stored."""


class NotSignedIn(AppError):
    """Raised when a web request needs a signed-in user or an API token and has neither."""


class PermissionDenied(AppError):
    """Raised when the person is known but may not do this."""
