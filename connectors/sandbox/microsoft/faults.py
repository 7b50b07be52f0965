"""Faults injected on request: the next N matching requests fail or stall, deterministically.

Queued faults (`rate_limit`, `server_error`, `delay`) are taken by matching requests, oldest
first. Without a path prefix a fault matches Graph requests (`/v1.0/...`, `$batch` inner
requests one by one), never the identity platform; with one it matches any path starting with
it, the token endpoint (`/common/oauth2/v2.0/token`) included. State faults act at once and are
applied by the sandbox: `invalid_grant` kills every grant of the user with an AADSTS code,
`restore_consent` lets the user consent again, `expire_delta_tokens` ends every delta token of
a folder (or of all folders and the calendar).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Fault", "FaultKind", "FaultQueue", "parse_fault"]

GRAPH_PREFIX = "/v1.0/"


class FaultKind(StrEnum):
    """What a fault does; the first three are queued, the rest act immediately."""

    RATE_LIMIT = "rate_limit"  # 429 TooManyRequests with Retry-After (seconds, may be 2.128)
    SERVER_ERROR = "server_error"  # 500, 502, 503 or 504
    DELAY = "delay"  # answer only after `seconds` (a slow response; for client timeouts)
    INVALID_GRANT = "invalid_grant"  # every grant dies with AADSTS `aadsts`
    RESTORE_CONSENT = "restore_consent"  # the user may consent again (dead grants stay dead)
    EXPIRE_DELTA_TOKENS = "expire_delta_tokens"  # 410 SyncStateNotFound for `folder`'s tokens


QUEUED = frozenset({FaultKind.RATE_LIMIT, FaultKind.SERVER_ERROR, FaultKind.DELAY})
_STATUSES = frozenset({500, 502, 503, 504})


@dataclass
class Fault:
    """One fault: `count` more requests under `path_prefix` get it (queued kinds), or the
    state change it names (with `aadsts` or `folder`)."""

    kind: FaultKind
    count: int = 1
    path_prefix: str | None = None
    retry_after: float = 1.0  # RATE_LIMIT
    status: int = 503  # SERVER_ERROR
    seconds: float = 0.0  # DELAY
    aadsts: int = 65001  # INVALID_GRANT: 65001 consent revoked, 50173 password reset, ...
    folder: str | None = None  # EXPIRE_DELTA_TOKENS: a folder id or well-known name,
    # "calendar", or None for every folder and the calendar

    def matches(self, path: str) -> bool:
        """Whether a request to `path` is one this fault is for."""
        if self.path_prefix is None:
            return path.startswith(GRAPH_PREFIX)
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
        if fault.kind is FaultKind.SERVER_ERROR and fault.status not in _STATUSES:
            raise ValueError("server_error status must be 500, 502, 503 or 504")
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
    """A Fault from the admin endpoint's JSON (the field names of `Fault`). Raises ValueError
    for unknown kinds or bad values."""
    try:
        kind = FaultKind(str(payload["kind"]))
    except (KeyError, ValueError):
        raise ValueError(f"kind must be one of {[k.value for k in FaultKind]}") from None
    prefix, folder = payload.get("path_prefix"), payload.get("folder")
    try:
        return Fault(
            kind=kind,
            count=int(str(payload.get("count", 1))),
            path_prefix=None if prefix is None else str(prefix),
            retry_after=float(str(payload.get("retry_after", 1.0))),
            status=int(str(payload.get("status", 503))),
            seconds=float(str(payload.get("seconds", 0.0))),
            aadsts=int(str(payload.get("aadsts", 65001))),
            folder=None if folder is None else str(folder),
        )
    except ValueError as exc:
        raise ValueError(f"bad fault value: {exc}") from None
