"""Syncing the sandbox's mailbox and watching it from outside: the database as the workers
left it, background processes, and waiting on a condition with a deadline (never on the clock
alone)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from keepwarm.connectors.sandbox.google import GoogleSandbox
from keepwarm.services.core.config import Settings
from keepwarm.services.core.db import make_engine
from keepwarm.services.models import Account, Message, StreamKind, SyncCursor, SyncRun
from tests.support.cli import run_cli, run_json, settings_env
from tests.support.paths import MAILBOX, REPO
from tests.support.settings import keyed
from tests.support.shifted import python_command

T = TypeVar("T")
S = TypeVar("S")
QUERIES = (("suggestions", "--as-of", "2001-12-31", "--limit", "100"), ("contacts",))
GETS = "gmail.users.messages.get"
# Dead workers are noticed in seconds: the settings of the killed-worker tests.
QUICK_RECOVERY = {
    "KEEPWARM_WORKER_LIVENESS_SECONDS": "1",
    "KEEPWARM_BROKER_HEARTBEAT_TIMEOUT_SECONDS": "3",
    # Look for dead workers on every broker command, not on one in a thousand
    "KEEPWARM_BROKER_MAINTENANCE_PER_MILLION": "1000000",
}


def connect(settings: Settings, sandbox: GoogleSandbox, *extra: str) -> str:
    """`keepwarm connect google` against `sandbox`, reading everything since 1999."""
    return run_cli(
        settings, "connect", "google", "--sandbox", sandbox.url, "--since", "1999-01-01", *extra
    )


@dataclass(frozen=True)
class CleanOutcome:
    """What a fault-free sync leaves behind, whichever the provider: the answers to QUERIES
    and the number of messages stored."""

    answers: dict[tuple[str, ...], Any]
    messages: int


@dataclass(frozen=True)
class CleanRun(CleanOutcome):
    """What a fault-free sync of MAILBOX leaves behind."""

    gets: int


def record_clean_run(
    home: Path,
    sandbox: Callable[[], AbstractContextManager[S]],
    connect: Callable[[Settings, S], object],
    count: Callable[[S], int],
) -> tuple[dict[tuple[str, ...], Any], int, int]:
    """Connect to a fresh `sandbox()` and sync with nothing going wrong (embedded, in `home`):
    the answers to QUERIES, the messages stored and the sandbox's `count` of calls."""
    settings = keyed(Settings(home=home, database_url=None, redis_url=None))
    with sandbox() as box:
        connect(settings, box)
        calls = count(box)
    answers = {query: run_json(settings, *query) for query in QUERIES}
    return answers, run_json(settings, "accounts")[0]["messages"], calls


def clean_run(home: Path) -> CleanRun:
    """Connect and sync MAILBOX with nothing going wrong (embedded), and record the outcome."""
    return CleanRun(
        *record_clean_run(
            home, lambda: GoogleSandbox(list(MAILBOX)), connect, lambda box: box.call_counts()[GETS]
        )
    )


def assert_same_as_clean(settings: Settings, clean: CleanOutcome) -> None:
    """Nothing lost, nothing doubled: the same queue, contacts and messages as a clean run."""
    for query in QUERIES:
        assert run_json(settings, *query) == clean.answers[query], query
    [account] = run_json(settings, "accounts")
    assert account["messages"] == clean.messages
    assert account["phase"] == "incremental"
    with store(settings) as db:
        assert db.doubled() == []


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

    def underived(self) -> int:
        with self.engine.connect() as c:
            return int(
                c.scalar(
                    select(func.count()).select_from(Message).where(Message.derived.is_(False))
                )
                or 0
            )

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

    def mail_caught_up(self) -> bool:
        """Every mail stream of the first account has been read in full (backfill done)."""
        with self.engine.connect() as c:
            flags = list(
                c.scalars(
                    select(SyncCursor.caught_up).where(SyncCursor.kind == StreamKind.MAIL.value)
                )
            )
        return bool(flags) and all(flags)

    def caught_up(self) -> bool:
        """Backfill done, the latest run a success, and every message derived."""
        account = self.account()
        return (
            account is not None
            and self.mail_caught_up()
            and account.last_success_at is not None
            and account.last_sync_at == account.last_success_at
            and self.underived() == 0
        )

    def run_statuses(self) -> list[str]:
        """The status of every sync run in the ledger, oldest first."""
        with self.engine.connect() as c:
            return list(c.scalars(select(SyncRun.status).order_by(SyncRun.id)))


@contextmanager
def store(settings: Settings) -> Iterator[Store]:
    engine = make_engine(settings.sqlalchemy_url())
    try:
        yield Store(engine)
    finally:
        engine.dispose()


def spawn(
    settings: Settings, *args: str, log: Path | None = None, **env: str
) -> subprocess.Popen[str]:
    """Start `python -m keepwarm.workers.cli ARGS` in the background with `settings` (and `env`).

    Its output goes to `log` when given (a long-running worker must not fill a pipe nobody
    reads), else to a pipe `finish` reads.
    """
    full = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    full.update({k: v for k, v in settings_env(settings).items() if v is not None})
    full.update(env)
    command = python_command("-m", "keepwarm", *args)
    if log is None:
        return subprocess.Popen(
            command, cwd=REPO, env=full, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
    with log.open("w") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            command, cwd=REPO, env=full, stdout=out, stderr=subprocess.STDOUT, text=True
        )


def finish(proc: subprocess.Popen[str], timeout: float = 120.0) -> str:
    """Wait for `proc` to exit 0 and return its output; fail with the output otherwise."""
    out, _ = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, out
    return out


def stop_worker(proc: subprocess.Popen[str]) -> None:
    """Stop a worker the polite way (it finishes the job in hand), or kill it if it hangs."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def kill_worker_mid_sync(settings: Settings, db: Store, log: Path, **env: str) -> None:
    """Start `keepwarm worker` (with `env`, output to `log`), enqueue a sync as the
    scheduler's tick does, and SIGKILL the worker as soon as it has stored a page."""
    first = spawn(settings, "worker", "--threads", "2", log=log, **env)
    try:
        run_cli(settings, "sync")  # what the scheduler's tick does: enqueue, return
        wait_for(db.messages, "the first worker to store a page", timeout=60)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()


def finish_with_new_worker(settings: Settings, db: Store, log: Path, **env: str) -> None:
    """Start another `keepwarm worker` (with `env`, output to `log`), wait until the sync has
    caught up (`Store.caught_up`), and stop it the polite way."""
    second = spawn(settings, "worker", "--threads", "2", log=log, **env)
    try:
        wait_for(db.caught_up, "the second worker to finish the sync", timeout=90)
    finally:
        stop_worker(second)
