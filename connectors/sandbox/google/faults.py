"""Faults injected on request: the next N matching requests fail or stall, deterministically.

Request faults (`rate_limit`, `server_error`, `delay`) wait in a queue and each matching request
consumes one count, oldest fault first. Without a path prefix a fault matches the API (Gmail,
Calendar, batch, userinfo), never the OAuth endpoints; with one it matches any request whose
path starts with it, the token endpoint included. Batch inner requests are matched one by one,
like the outer request. State faults (revoke or restore the grant, expire history or sync
tokens) act at once and are applied by the sandbox, not queued here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from keepwarm.connectors.sandbox.faults import FaultQueue as SharedFaultQueue
from keepwarm.connectors.sandbox.faults import bad_fault_values, parse_kind, queued_fields

__all__ = ["API_PREFIXES", "Fault", "FaultKind", "FaultQueue", "parse_fault"]

API_PREFIXES = ("/gmail/", "/calendar/", "/batch", "/oauth2/v3/userinfo")


class FaultKind(StrEnum):
    """What a fault does; the first three are queued, the rest act immediately."""

    RATE_LIMIT = "rate_limit"  # 429 with Retry-After
    SERVER_ERROR = "server_error"  # 500 or 503
    DELAY = "delay"  # answer only after `seconds` (for client timeouts)
    REVOKE_GRANT = "revoke_grant"  # every token of the user dies; consent is refused
    RESTORE_GRANT = "restore_grant"  # the user may authorize again (old tokens stay dead)
    EXPIRE_HISTORY = "expire_history"  # every historyId issued so far gives 404
    EXPIRE_SYNC_TOKENS = "expire_sync_tokens"  # every Calendar syncToken so far gives 410


_STATUSES = frozenset({500, 503})


@dataclass
class Fault:
    """One queued fault: `count` more requests under `path_prefix` get it."""

    kind: FaultKind
    count: int = 1
    path_prefix: str | None = None
    retry_after: int = 1  # RATE_LIMIT: the Retry-After seconds (sent as at least 1)
    status: int = 503  # SERVER_ERROR: 500 or 503
    seconds: float = 0.0  # DELAY


class FaultQueue(SharedFaultQueue[Fault]):
    """Queued request faults, consumed in order; without a prefix they match the API paths and
    a `server_error` is 500 or 503. Not thread-safe: the app locks around it."""

    def __init__(self) -> None:
        super().__init__(api_prefixes=API_PREFIXES, statuses=_STATUSES)


def parse_fault(payload: Mapping[str, object]) -> Fault:
    """A Fault from the admin endpoint's JSON: `{"kind": ..., "count", "path_prefix",
    "retry_after", "status", "seconds"}`. Raises ValueError for unknown kinds or bad values."""
    kind = parse_kind(payload, FaultKind)
    with bad_fault_values():
        return Fault(kind=kind, **queued_fields(payload, int))
