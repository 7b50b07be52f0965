"""Waiting for the background worker covers jobs that jobs send (a sync sends its derivation)."""

from __future__ import annotations

import time

import dramatiq

from keepwarm.services.core.config import Settings
from keepwarm.services.runtime import build_runtime
from keepwarm.workers.actors import Queue
from keepwarm.workers.broker import background
from tests.support.settings import keyed


def test_wait_returns_only_after_the_jobs_that_jobs_sent(any_settings: Settings) -> None:
    runtime = build_runtime(keyed(any_settings))
    landed: list[str] = []
    try:
        with background(runtime, queues=[Queue.SYNC, Queue.DERIVE]) as bg:

            def land() -> None:
                time.sleep(0.3)  # a derivation that takes a moment (work, not synchronisation)
                landed.append("derived")

            def hop() -> None:
                landing.send()

            # The derive queue sorts before sync: one pass would find it empty, then run the
            # sync, and return while the job it sent is still running.
            landing = dramatiq.actor(land, broker=bg.broker, queue_name=Queue.DERIVE.value)
            hopping = dramatiq.actor(hop, broker=bg.broker, queue_name=Queue.SYNC.value)
            hopping.send()
            bg.wait()
            assert landed == ["derived"]
    finally:
        runtime.close()
