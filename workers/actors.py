"""The actors: thin, idempotent, ids in, one service call each.

Actors are built per broker from a `Runtime` instead of decorated at import time, so no module
holds a broker, a database or settings, and tests build as many independent brokers as they
like.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import dramatiq

from services import derivation
from services.importing import DERIVE_ACTOR
from workers.runtime import Runtime

__all__ = ["Queue", "build_actors"]


class Queue(StrEnum):
    """The queues work is spread over."""

    DERIVE = "derive"


@dataclass(frozen=True, slots=True)
class _Spec:
    name: str
    queue: Queue
    options: dict[str, Any]
    make: Callable[[Runtime], Callable[..., None]]


def _derive_pending(runtime: Runtime) -> Callable[..., None]:
    def derive_pending(user_id: int) -> None:
        derivation.derive_pending(runtime.session_factory, user_id, runtime.derivation_rules)

    return derive_pending


_SPECS = (
    _Spec(
        DERIVE_ACTOR,
        Queue.DERIVE,
        {"max_retries": 5, "min_backoff": 1_000, "max_backoff": 60_000, "time_limit": 3_600_000},
        _derive_pending,
    ),
)


def build_actors(broker: dramatiq.Broker, runtime: Runtime) -> dict[str, dramatiq.Actor[..., None]]:
    """Declare every actor on `broker`, bound to `runtime`; return them by name."""
    return {
        spec.name: dramatiq.Actor(
            spec.make(runtime),
            broker=broker,
            actor_name=spec.name,
            queue_name=spec.queue.value,
            priority=0,
            options=dict(spec.options),
        )
        for spec in _SPECS
    }
