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


QUEUED = frozenset({FaultKind.RATE_LIMIT, FaultKind.SERVER_ERROR, FaultKind.DELAY})


@dataclass
class Fault:
    """One queued fault: `count` more requests under `path_prefix` get it."""

    kind: FaultKind
    count: int = 1
    path_prefix: str | None = None
    retry_after: int = 1  # RATE_LIMIT: the Retry-After seconds (sent as at least 1)
    status: int = 503  # SERVER_ERROR: 500 or 503
    seconds: float = 0.0  # DELAY

    def matches(self, path: str) -> bool:
        """Whether a request to `path` is one this fault is for."""
        if self.path_prefix is None:
            return path.startswith(API_PREFIXES)
        return path.startswith(self.path_prefix)


class FaultQueue:
    """Queued request faults, consumed in order. Not thread-safe: the app locks around it."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        """Queue a request fault. Raises ValueError for an immediate kind or a bad value."""
        if fault.kind not in QUEUED:
            raise ValueError(f"{fault.kind} acts at once; it is not queued")
        if fault.count < 1:
            raise ValueError("count must be at least 1")
        if fault.kind is FaultKind.SERVER_ERROR and fault.status not in (500, 503):
            raise ValueError("server_error status must be 500 or 503")
        if fault.kind is FaultKind.RATE_LIMIT and fault.retry_after < 0:
            raise ValueError("retry_after must not be negative")
        if fault.kind is FaultKind.DELAY and fault.seconds <= 0:
            raise ValueError("delay seconds must be positive")
        self._faults.append(fault)

    def take(self, path: str) -> Fault | None:
        """The first queued fault matching `path`, with one count consumed; None if none."""
        for index, fault in enumerate(self._faults):
            if fault.matches(path):
                fault.count -= 1
                if fault.count == 0:
                    del self._faults[index]
                return fault
        return None

    def clear(self) -> None:
        """Drop every queued fault."""
        self._faults.clear()

    def pending(self) -> list[Fault]:
        """The queued faults with their remaining counts."""
        return [Fault(**vars(fault)) for fault in self._faults]


def parse_fault(payload: Mapping[str, object]) -> Fault:
    """A Fault from the admin endpoint's JSON: `{"kind": ..., "count", "path_prefix",
    "retry_after", "status", "seconds"}`. Raises ValueError for unknown kinds or bad values."""
    try:
        kind = FaultKind(str(payload["kind"]))
    except (KeyError, ValueError):
        raise ValueError(f"kind must be one of {[k.value for k in FaultKind]}") from None
    prefix = payload.get("path_prefix")
    try:
        return Fault(
            kind=kind,
            count=int(str(payload.get("count", 1))),
            path_prefix=None if prefix is None else str(prefix),
            retry_after=int(str(payload.get("retry_after", 1))),
            status=int(str(payload.get("status", 503))),
            seconds=float(str(payload.get("seconds", 0.0))),
        )
    except ValueError as exc:
        raise ValueError(f"bad fault value: {exc}") from None
