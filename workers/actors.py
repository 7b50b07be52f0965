"""The actors: thin, idempotent, ids in, one service call each.

Actors are built per broker from a `Runtime` instead of decorated at import time, so no module
holds a broker, a database or settings, and tests build as many independent brokers as they
like.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import dramatiq
from sqlalchemy import select

from keepwarm.connectors.base import AccountSources
from keepwarm.connectors.errors import AuthExpired, RateLimited
from keepwarm.services.accounts.sync import SYNC_ACTOR, sync_account
from keepwarm.services.core.crypto import TokenKeyError
from keepwarm.services.core.jobs import Job, JobSink, unit_of_work
from keepwarm.services.mail import derivation
from keepwarm.services.mail.importing import DERIVE_ACTOR
from keepwarm.services.models import Account, AccountStatus
from keepwarm.services.notify.due import send_owed
from keepwarm.services.notify.plan import plan_due
from keepwarm.services.reconnect import store
from keepwarm.services.runtime import Runtime

__all__ = [
    "NOTIFY_SEND",
    "NOTIFY_TICK",
    "REFIT_MODELS",
    "SYNC_ACCOUNT",
    "SYNC_ALL",
    "Queue",
    "build_actors",
]

SYNC_ACCOUNT = SYNC_ACTOR
SYNC_ALL = "sync.all"
NOTIFY_TICK = "notify.tick"
NOTIFY_SEND = "notify.send"
REFIT_MODELS = store.REFIT_ACTOR
log = logging.getLogger(__name__)


class Queue(StrEnum):
    """The queues work is spread over."""

    DERIVE = "derive"
    SYNC = "sync"
    NOTIFY = "notify"


class _LateSink:
    """Sends jobs to actors declared on the same broker (they exist once all are built)."""

    def __init__(self) -> None:
        self.actors: dict[str, dramatiq.Actor[..., None]] = {}

    def send(self, job: Job) -> None:
        self.actors[job.actor].send_with_options(kwargs=job.kwargs)


@dataclass(frozen=True, slots=True)
class _Spec:
    name: str
    queue: Queue
    options: dict[str, Any]
    make: Callable[[Runtime, JobSink], Callable[..., None]]


def _derive_pending(runtime: Runtime, sink: JobSink) -> Callable[..., None]:
    def derive_pending(user_id: int) -> None:
        derivation.derive_pending(runtime.session_factory, user_id, runtime.derivation_rules)
        # Each chunk committed as it went: the queue's statistics may be built from them now.
        sink.send(Job(store.REFRESH_ACTOR, {"user_id": user_id}))

    return derive_pending


def _refresh_queue_stats(runtime: Runtime, sink: JobSink) -> Callable[..., None]:
    def refresh_stats(user_id: int) -> None:
        store.refresh_user(runtime.session_factory, user_id, runtime.queue_rules, runtime.clock())

    return refresh_stats


def _refit_queue_models(runtime: Runtime, sink: JobSink) -> Callable[..., None]:
    def refit_models() -> None:
        store.refit_models(runtime.session_factory, runtime.queue_rules, runtime.clock())

    return refit_models


def _sync_account(runtime: Runtime, sink: JobSink) -> Callable[..., None]:
    def sync_one(account_id: int) -> None:
        with runtime.locks.hold(f"account:{account_id}") as lease:
            if not lease.held:
                log.info("account %s is syncing elsewhere; skipped", account_id)
                return

            def open_sources(account: Account, tokens: dict[str, Any]) -> AccountSources:
                # Every provider call renews the lease: a live sync keeps its lock.
                return runtime.open_sources(account, tokens, on_call=lease.renew)

            try:
                sync_account(
                    runtime.session_factory,
                    account_id,
                    open_sources,
                    runtime.cipher(),
                    sink,
                    runtime.clock,
                )
            except RateLimited as exc:
                # An exact wait, as the provider asked; see _retry_when for the budget.
                raise dramatiq.Retry(delay=int(exc.retry_after * 1000)) from exc

    return sync_one


def _sync_all(runtime: Runtime, sink: JobSink) -> Callable[..., None]:
    def sync_all() -> None:
        with runtime.session_factory() as session:
            ids = session.scalars(
                select(Account.id).where(Account.status == AccountStatus.ACTIVE)
            ).all()
        for account_id in ids:
            sink.send(Job(SYNC_ACCOUNT, {"account_id": account_id}))

    return sync_all


def _notify_tick(runtime: Runtime, sink: JobSink) -> Callable[..., None]:
    def tick() -> None:
        with unit_of_work(runtime.session_factory, sink) as uow:
            for delivery_id in plan_due(uow.session, runtime.clock(), runtime.notify_rules):
                uow.jobs.enqueue(NOTIFY_SEND, delivery_id=delivery_id)

    return tick


def _notify_send(runtime: Runtime, sink: JobSink) -> Callable[..., None]:
    def send(delivery_id: int) -> None:
        # Retries are the outbox's (a failed send gets a retry time the next tick acts on),
        # so this actor never raises for a mail server's refusal.
        send_owed(runtime, delivery_id)

    return send


def _retry_when(retries: int, exc: Exception) -> bool:
    # Waiting out a rate limit is not a failure: it must not use up the retry budget
    # (Dramatiq counts every exception, Retry included). A dead grant or a token key that
    # cannot open the tokens never heals by retrying. Other failures get 8 tries.
    if isinstance(exc, dramatiq.Retry):
        return retries < 1000
    return not isinstance(exc, (AuthExpired, TokenKeyError)) and retries < 8


_SPECS = (
    _Spec(
        DERIVE_ACTOR,
        Queue.DERIVE,
        {"max_retries": 5, "min_backoff": 1_000, "max_backoff": 60_000, "time_limit": 3_600_000},
        _derive_pending,
    ),
    _Spec(
        store.REFRESH_ACTOR,
        Queue.DERIVE,
        {"max_retries": 5, "min_backoff": 1_000, "max_backoff": 60_000, "time_limit": 3_600_000},
        _refresh_queue_stats,
    ),
    _Spec(
        store.REFIT_ACTOR,
        Queue.DERIVE,
        {"max_retries": 3, "min_backoff": 1_000, "max_backoff": 60_000, "time_limit": 3_600_000},
        _refit_queue_models,
    ),
    _Spec(
        SYNC_ACCOUNT,
        Queue.SYNC,
        {
            "retry_when": _retry_when,
            "throws": (AuthExpired, TokenKeyError),
            "min_backoff": 1_000,
            "max_backoff": 300_000,
            "time_limit": 3_600_000,
        },
        _sync_account,
    ),
    _Spec(SYNC_ALL, Queue.SYNC, {"max_retries": 3, "time_limit": 60_000}, _sync_all),
    _Spec(NOTIFY_TICK, Queue.NOTIFY, {"max_retries": 3, "time_limit": 300_000}, _notify_tick),
    # No Dramatiq retries: an exception here is a bug, recorded on the delivery by the outbox.
    _Spec(NOTIFY_SEND, Queue.NOTIFY, {"max_retries": 0, "time_limit": 300_000}, _notify_send),
)


def build_actors(broker: dramatiq.Broker, runtime: Runtime) -> dict[str, dramatiq.Actor[..., None]]:
    """Declare every actor on `broker`, bound to `runtime`; return them by name."""
    sink = _LateSink()
    sink.actors.update(
        {
            spec.name: dramatiq.Actor(
                spec.make(runtime, sink),
                broker=broker,
                actor_name=spec.name,
                queue_name=spec.queue.value,
                priority=0,
                options=dict(spec.options),
            )
            for spec in _SPECS
        }
    )
    return sink.actors
