"""The Dramatiq broker: Redis in production, in-process in embedded mode; and its job sink."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import dq_name

from keepwarm.services.core.jobs import Job
from keepwarm.services.runtime import Runtime
from keepwarm.workers.actors import Queue, build_actors

__all__ = ["Background", "BrokerSink", "background", "enqueue_only"]


@dataclass(frozen=True)
class BrokerSink:
    """Sends committed jobs to their actors (the `JobSink` of keepwarm.services.core.jobs)."""

    actors: dict[str, dramatiq.Actor[..., None]]

    def send(self, job: Job) -> None:
        self.actors[job.actor].send_with_options(kwargs=job.kwargs)


@dataclass(frozen=True)
class Background:
    """A broker with our actors declared on it, and a worker consuming from it."""

    broker: dramatiq.Broker
    worker: dramatiq.Worker
    sink: BrokerSink
    queues: frozenset[Queue]

    def wait(self, timeout_ms: int | None = None) -> None:
        """Return when this worker's queues are drained (re-raises a failed job, embedded).

        A job may send another to a queue this pass already found empty (a sync sends its
        derivation), so passes repeat until one ends with every queue empty.
        """
        while True:
            for queue in sorted(self.queues):
                if isinstance(self.broker, StubBroker):
                    self.broker.join(queue.value, timeout=timeout_ms, fail_fast=True)
                else:
                    self.broker.join(queue.value, timeout=timeout_ms)
            self.worker.join()
            if not any(self._pending(queue.value) for queue in self.queues):
                return

    def _pending(self, name: str) -> bool:
        if isinstance(self.broker, StubBroker):
            return any(self.broker.queues[q].unfinished_tasks > 0 for q in (name, dq_name(name)))
        assert isinstance(self.broker, RedisBroker)
        return bool(self.broker.do_qsize(name))


def _make_broker(runtime: Runtime) -> dramatiq.Broker:
    settings = runtime.settings
    if settings.redis_url is None:
        broker: dramatiq.Broker = StubBroker()
        # The time-limit watchdog starts on process boot, which a stub broker never emits.
        broker.emit_after("process_boot")
        return broker
    # A killed worker's job goes back on its queue once the worker has been silent for the
    # heartbeat timeout (see Settings.worker_liveness_seconds for why it is longer than that).
    broker = RedisBroker(  # type: ignore[no-untyped-call]
        url=settings.redis_url.get_secret_value(),
        namespace=settings.queue_namespace,
        heartbeat_timeout=int(settings.broker_heartbeat_timeout_seconds * 1000),
        maintenance_chance=settings.broker_maintenance_per_million,
    )
    return broker


@contextmanager
def enqueue_only(runtime: Runtime) -> Iterator[BrokerSink]:
    """A sink onto the broker with no worker here (production: workers run elsewhere)."""
    broker = _make_broker(runtime)
    dramatiq.set_broker(broker)
    try:
        yield BrokerSink(build_actors(broker, runtime))
    finally:
        broker.close()


@contextmanager
def background(
    runtime: Runtime, threads: int | None = None, queues: Iterable[Queue] | None = None
) -> Iterator[Background]:
    """Run a broker and an in-process worker for the duration of the block.

    `queues` limits what the worker takes: a command that waits for its own jobs (an import
    waiting for derivation) must not also take the scheduler's ticks meant for the workers,
    nor wait for queues that others keep filling.
    """
    broker = _make_broker(runtime)
    dramatiq.set_broker(broker)
    actors = build_actors(broker, runtime)
    chosen = frozenset(queues) if queues is not None else frozenset(Queue)
    worker = dramatiq.Worker(
        broker,
        worker_threads=threads or runtime.settings.worker_threads,
        worker_timeout=100,
        queues={q.value for q in chosen},
    )
    worker.start()
    try:
        yield Background(broker, worker, BrokerSink(actors), chosen)
    finally:
        worker.stop()
        broker.close()
