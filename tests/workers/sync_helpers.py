"""Watching a sync from outside: the database as the worker left it, background processes,
and waiting on a condition with a deadline (never on the clock alone)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from services.config import Settings
from services.db import make_engine
from services.models import Account, Message
from tests.workers.cli_helpers import REPO, settings_env

T = TypeVar("T")


def wait_for(
    probe: Callable[[], T | None], what: str, timeout: float = 60.0, every: float = 0.02
) -> T:
    """Return `probe()`'s first truthy value; fail naming `what` once `timeout` has passed.

    The pause between probes only spaces the polling; what the test waits on is the condition.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


@dataclass(frozen=True)
class Store:
    """Read-only looks at the database a test's keepwarm processes write."""

    engine: Engine

    def messages(self) -> int:
        with self.engine.connect() as c:
            return int(c.scalar(select(func.count()).select_from(Message)) or 0)

    def doubled(self) -> list[tuple[str | None, int]]:
        """Provider ids stored more than once (the fingerprint key should prevent it)."""
        with self.engine.connect() as c:
            rows = c.execute(
                select(Message.provider_id, func.count())
                .group_by(Message.provider_id)
                .having(func.count() > 1)
            )
            return [(pid, int(n)) for pid, n in rows]

    def account(self) -> Account | None:
        """The first connected account as it stands now (detached)."""
        with Session(self.engine, expire_on_commit=False) as session:
            return session.scalar(select(Account).order_by(Account.id).limit(1))


@contextmanager
def store(settings: Settings) -> Iterator[Store]:
    engine = make_engine(settings.sqlalchemy_url())
    try:
        yield Store(engine)
    finally:
        engine.dispose()


def spawn(settings: Settings, *args: str, **env: str) -> subprocess.Popen[str]:
    """Start `python -m workers.cli ARGS` in the background with `settings` (and `env`)."""
    full = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    full.update({k: v for k, v in settings_env(settings).items() if v is not None})
    full.update(env)
    return subprocess.Popen(
        [sys.executable, "-m", "workers.cli", *args],
        cwd=REPO,
        env=full,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(proc: subprocess.Popen[str], timeout: float = 120.0) -> str:
    """Wait for `proc` to exit 0 and return its output; fail with the output otherwise."""
    out, _ = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, out
    return out
