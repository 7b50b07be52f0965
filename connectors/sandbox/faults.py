"""The request-fault queue both sandboxes share: the next N matching requests fail or stall.

Queued faults (`rate_limit`, `server_error`, `delay`) are taken by matching requests, oldest
first, one count each. Without a path prefix a fault matches the provider's API paths, never
its OAuth endpoints; with one it matches any path starting with it. What differs between the
providers is a parameter: their API paths, the 5xx statuses their APIs answer with, and the
type of Retry-After (whole seconds for Google, fractions for Graph). Each provider's own
`faults` module holds its `Fault` and `FaultKind`, state faults included.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from enum import StrEnum
from typing import Any, Generic, Protocol, TypedDict, TypeVar

__all__ = [
    "QUEUED_KINDS",
    "FaultControls",
    "FaultQueue",
    "FaultState",
    "QueuedFault",
    "QueuedFields",
    "bad_fault_values",
    "parse_kind",
    "queued_fields",
]

QUEUED_KINDS = frozenset({"rate_limit", "server_error", "delay"})


class QueuedFault(Protocol):
    """What the queue reads of a provider's fault."""

    count: int

    @property
    def kind(self) -> str: ...
    @property
    def path_prefix(self) -> str | None: ...
    @property
    def retry_after(self) -> float: ...
    @property
    def status(self) -> int: ...
    @property
    def seconds(self) -> float: ...


F = TypeVar("F", bound=QueuedFault)
K = TypeVar("K", bound=StrEnum)
R = TypeVar("R", int, float)


class FaultQueue(Generic[F]):
    """Queued request faults, consumed in order. Not thread-safe: the app locks around it.

    `api_prefixes` are the paths a fault without a prefix matches; `statuses` the 5xx codes a
    `server_error` may have.
    """

    def __init__(self, *, api_prefixes: tuple[str, ...], statuses: Collection[int]) -> None:
        self._api_prefixes = api_prefixes
        self._statuses = frozenset(statuses)
        self._faults: list[F] = []

    def add(self, fault: F) -> None:
        """Queue a request fault. Raises ValueError for an immediate kind or a bad value."""
        if fault.kind not in QUEUED_KINDS:
            raise ValueError(f"{fault.kind} acts at once; it is not queued")
        if fault.count < 1:
            raise ValueError("count must be at least 1")
        if fault.kind == "server_error" and fault.status not in self._statuses:
            raise ValueError(f"server_error status must be {_either(sorted(self._statuses))}")
        if fault.kind == "rate_limit" and fault.retry_after < 0:
            raise ValueError("retry_after must not be negative")
        if fault.kind == "delay" and fault.seconds <= 0:
            raise ValueError("delay seconds must be positive")
        self._faults.append(fault)

    def take(self, path: str) -> F | None:
        """The first queued fault matching `path`, with one count consumed; None if none."""
        for index, fault in enumerate(self._faults):
            if self._matches(fault, path):
                fault.count -= 1
                if fault.count == 0:
                    del self._faults[index]
                return fault
        return None

    def clear(self) -> None:
        """Drop every queued fault."""
        self._faults.clear()

    def pending(self) -> list[F]:
        """The queued faults with their remaining counts (copies)."""
        return [copy.copy(fault) for fault in self._faults]

    def _matches(self, fault: F, path: str) -> bool:
        if fault.path_prefix is None:
            return path.startswith(self._api_prefixes)
        return path.startswith(fault.path_prefix)


class FaultState(Protocol[F]):
    """A sandbox's state as its fault controls see it: the queue and the lock around it."""

    @property
    def lock(self) -> AbstractContextManager[Any]: ...
    @property
    def faults(self) -> FaultQueue[F]: ...


class FaultControls(Generic[F]):
    """The fault controls that are the same on every sandbox: `fail_with_status`, `delay`,
    `clear_faults`, `pending_faults`. A sandbox calls `__init__` with its state, its `Fault`
    type and its `FaultKind`, and implements `apply_fault` (state faults are its own).
    `fail_with_429` stays with each sandbox: Retry-After is whole seconds for Google and
    fractional for Graph."""

    def __init__(self, state: FaultState[F], fault: Callable[..., F], kinds: type[StrEnum]) -> None:
        self._fault_state = state
        self._new_fault = fault
        self._kinds = kinds

    def apply_fault(self, fault: F) -> None:
        """Queue a request fault, or act on a state fault at once."""
        raise NotImplementedError

    def fail_with_status(
        self, status: int = 503, count: int = 1, *, path_prefix: str | None = None
    ) -> None:
        """The next `count` matching requests get `status`, one the provider's API answers
        with (Google: 500 or 503; Graph: 500, 502, 503 or 504). Raises ValueError for
        another."""
        kind = self._kinds("server_error")
        self.apply_fault(self._new_fault(kind, count, path_prefix, status=status))

    def delay(self, seconds: float, count: int = 1, *, path_prefix: str | None = None) -> None:
        """The next `count` matching requests are answered only after `seconds`."""
        kind = self._kinds("delay")
        self.apply_fault(self._new_fault(kind, count, path_prefix, seconds=seconds))

    def clear_faults(self) -> None:
        """Drop the queued request faults."""
        with self._fault_state.lock:
            self._fault_state.faults.clear()

    def pending_faults(self) -> list[F]:
        """The queued request faults with their remaining counts."""
        with self._fault_state.lock:
            return self._fault_state.faults.pending()


class QueuedFields(TypedDict, Generic[R]):
    """The fields of a queued fault, as `queued_fields` reads them."""

    count: int
    path_prefix: str | None
    retry_after: R
    status: int
    seconds: float


def parse_kind(payload: Mapping[str, object], kinds: type[K]) -> K:
    """The `kind` of the admin endpoint's fault JSON. Raises ValueError for an unknown one."""
    try:
        return kinds(str(payload["kind"]))
    except (KeyError, ValueError):
        raise ValueError(f"kind must be one of {[k.value for k in kinds]}") from None


def queued_fields(
    payload: Mapping[str, object], retry_after: Callable[[str], R]
) -> QueuedFields[R]:
    """`count`, `path_prefix`, `retry_after` (read with `retry_after`), `status` and `seconds`
    from the admin endpoint's fault JSON, with their defaults. Raises ValueError for a value
    that is not a number (wrap the call in `bad_fault_values`)."""
    prefix = payload.get("path_prefix")
    return {
        "count": int(str(payload.get("count", 1))),
        "path_prefix": None if prefix is None else str(prefix),
        "retry_after": retry_after(str(payload.get("retry_after", 1))),
        "status": int(str(payload.get("status", 503))),
        "seconds": float(str(payload.get("seconds", 0.0))),
    }


@contextmanager
def bad_fault_values() -> Iterator[None]:
    """Re-raise a ValueError from reading a fault's values as "bad fault value: ..."."""
    try:
        yield
    except ValueError as exc:
        raise ValueError(f"bad fault value: {exc}") from None


def _either(statuses: list[int]) -> str:
    """ "500 or 503", "500, 502, 503 or 504"."""
    words = [str(status) for status in statuses]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
