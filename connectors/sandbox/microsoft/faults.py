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

from keepwarm.connectors.sandbox.faults import FaultQueue as SharedFaultQueue
from keepwarm.connectors.sandbox.faults import bad_fault_values, parse_kind, queued_fields

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


class FaultQueue(SharedFaultQueue[Fault]):
    """Queued request faults, consumed in order; without a prefix they match Graph requests
    and a `server_error` is 500, 502, 503 or 504. Not thread-safe: the app locks around it."""

    def __init__(self) -> None:
        super().__init__(api_prefixes=(GRAPH_PREFIX,), statuses=_STATUSES)


def parse_fault(payload: Mapping[str, object]) -> Fault:
    """A Fault from the admin endpoint's JSON (the field names of `Fault`). Raises ValueError
    for unknown kinds or bad values."""
    kind = parse_kind(payload, FaultKind)
    folder = payload.get("folder")
    with bad_fault_values():
        return Fault(
            kind=kind,
            **queued_fields(payload, float),
            aadsts=int(str(payload.get("aadsts", 65001))),
            folder=None if folder is None else str(folder),
        )
