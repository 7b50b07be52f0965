"""Benchmark: initial Microsoft sync of the largest shared mailbox through the sandbox, with
Outlook's limits on (10,000 requests per 10 minutes and 4 at once per app and mailbox).

    python bench/graph_sync.py [--mailbox ../shared/data/enron/delainey-d] [--accounts 10]
                               [--threads 2] [--latency SECONDS]

Prints, in one run:
- the ceiling: what the limits let through, page size x request rate. Graph's 10-minute budget
  allows 16.7 requests/s sustained (page size x 16.7 messages/s); within it, pages come as
  fast as the mailbox answers them, and one sync reads its folders' pages one after another,
  so its rate can be no better than page size / the sandbox's time to answer a page. That
  time is measured first, by reading every folder with keepwarm's own Graph client and
  storing nothing: the fetch ceiling;
- the initial sync through the product (consent, then `sync.account` on the in-process
  Dramatiq worker: msal, httpx, the stores, the ledger): messages/s as a share of the
  ceiling (goal >= 0.9), requests per 1,000 messages, the share of the 10-minute budget used,
  429s from the sandbox (goal: none), and the time to the first usable queue (Sent Items in)
  beside the full sync;
- N mailboxes at once (each its own sandbox user with its own copy of the mailbox, dates
  moved by whole years so every copy is new mail) through one worker with `--threads`
  threads, with the time each account's mail was all in.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.request import Request, urlopen

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pydantic import SecretStr  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from keepwarm.connectors.microsoft.graph import GraphClient  # noqa: E402
from keepwarm.connectors.microsoft.mail import PAGE_SIZE, GraphMailSource  # noqa: E402
from keepwarm.connectors.microsoft.provider import MicrosoftProvider  # noqa: E402
from keepwarm.services.core.config import Settings  # noqa: E402
from keepwarm.services.core.crypto import TokenCipher  # noqa: E402
from keepwarm.services.core.jobs import Job  # noqa: E402
from keepwarm.services.models import (  # noqa: E402
    Account,
    Message,
    StreamKind,
    SyncCursor,
    SyncRun,
)
from keepwarm.services.runtime import Runtime, build_runtime  # noqa: E402
from keepwarm.workers.actors import SYNC_ACCOUNT  # noqa: E402
from keepwarm.workers.broker import background  # noqa: E402
from keepwarm.workers.cli.accounts import connect_account  # noqa: E402

sys.path.insert(0, str(REPO / "bench"))
from gmail_sync import moved_copy  # noqa: E402

DEFAULT = REPO.parent / "shared" / "data" / "enron" / "delainey-d"
SINCE = datetime(1970, 1, 2, tzinfo=UTC)
BUDGET = 10_000 / 600  # Outlook's requests per second per mailbox, sustained
# The folders keepwarm reads: everything but these.
_UNREAD = {"Deleted Items", "Junk Email", "Drafts", "Outbox", "Conversation History"}


def settings(home: Path) -> Settings:
    return Settings(
        home=home,
        database_url=None,
        redis_url=None,
        token_key=SecretStr(TokenCipher.generate_key()),
    )


class RemoteSandbox:
    """`keepwarm sandbox microsoft` in a process of its own, as Microsoft is a server of its
    own: its work does not compete with the sync for this process's interpreter."""

    def __init__(self, seeds: Sequence[Path], user: str | None = None) -> None:
        command = [sys.executable, "-m", "keepwarm", "sandbox", "microsoft", "--port", "0"]
        for seed in seeds:
            command += ["--seed", str(seed)]
        if user:
            command += ["--user", user]
        self._process = subprocess.Popen(
            command, cwd=REPO, stdout=subprocess.PIPE, text=True, env=_env()
        )
        assert self._process.stdout is not None
        first = self._process.stdout.readline()
        if not first.startswith("Microsoft sandbox at "):
            self.stop()
            raise RuntimeError(f"the sandbox did not start: {first!r}")
        self.url = first.split()[3]

    def slow_down(self, seconds: float) -> None:
        """Every Graph request answered `seconds` later (Graph's own latency over a network)."""
        if seconds <= 0:
            return
        fault = {"kind": "delay", "seconds": seconds, "count": 100_000, "path_prefix": "/v1.0/"}
        request = Request(
            self.url + "/_sandbox/faults",
            data=json.dumps(fault).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urlopen(request, timeout=30) as response:
            response.read()

    def stats(self) -> dict[str, Any]:
        with urlopen(self.url + "/_sandbox/stats", timeout=30) as response:
            return dict(json.load(response))

    def served(self) -> dict[str, int]:
        return dict(self.stats()["served"])

    def refused(self) -> dict[str, int]:
        return dict(self.stats()["refused"])

    def readable(self) -> int:
        """Messages in the folders keepwarm reads."""
        folders: dict[str, int] = self.stats()["folders"]
        return sum(n for path, n in folders.items() if path.split("/")[0] not in _UNREAD)

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGINT)
            try:
                self._process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.communicate()


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["PYTHONPATH"] = str(REPO)
    return env


def fetch_ceiling(sandbox: RemoteSandbox, runtime: Runtime, page_size: int) -> float:
    """Seconds to read every folder's first round with keepwarm's Graph client, storing
    nothing: the sandbox's own speed, the most any sync of this mailbox could reach."""
    with runtime.session_factory() as session:
        account = session.scalars(select(Account)).one()
        tokens = runtime.cipher().open(account.token_ciphertext)
    provider = runtime.providers.get("microsoft")
    assert isinstance(provider, MicrosoftProvider)
    auth = provider.client(sandbox.url)
    graph = GraphClient(auth.endpoints.graph, auth.tokens(tokens))
    source = GraphMailSource(graph, page_size=page_size)
    started = time.perf_counter()
    for stream in source.streams():
        cursor = None
        while True:
            page = source.read(stream, cursor, since=SINCE, known=lambda ids: set())
            cursor = page.cursor
            if not page.more:
                break
    elapsed = time.perf_counter() - started
    graph.close()
    return elapsed


def moments(runtime: Runtime, ids: Sequence[int], started: datetime) -> dict[str, list[float]]:
    """Seconds from `started` until each account's Sent Items were caught up and until its run
    finished, from the times the sync itself wrote (the cursor's and the account's)."""
    sent: list[float] = []
    synced: list[float] = []
    run: list[float] = []
    with runtime.session_factory() as session:
        for account_id in ids:
            cursor = session.get(SyncCursor, (account_id, StreamKind.MAIL.value, "sentitems"))
            account = session.get(Account, account_id)
            assert cursor is not None and cursor.caught_up and account is not None
            assert account.last_success_at is not None
            sent.append((_aware(cursor.updated_at) - started).total_seconds())
            synced.append((_aware(account.last_success_at) - started).total_seconds())
            ledger = session.scalars(
                select(SyncRun).where(SyncRun.account_id == account_id).order_by(SyncRun.id)
            ).first()
            assert ledger is not None and ledger.finished_at is not None
            run.append((_aware(ledger.finished_at) - _aware(ledger.started_at)).total_seconds())
    return {"sent": sent, "synced": synced, "run": run}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def stored(runtime: Runtime) -> int:
    with runtime.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(Message)) or 0)


def one_account(mailbox: Path, page_size: int, latency: float) -> None:
    sandbox = RemoteSandbox([mailbox])
    sandbox.slow_down(latency)
    with tempfile.TemporaryDirectory() as home:
        runtime = build_runtime(settings(Path(home)))
        account_id = connect_account(runtime, "microsoft", sandbox.url, SINCE).account_id
        messages = sandbox.readable()
        # The sandbox's own speed, before and after the sync (the machine is shared: the
        # median of three is the fairest ceiling)
        fetches = [fetch_ceiling(sandbox, runtime, page_size) for _ in range(2)]
        before = sandbox.served()
        with background(runtime) as bg:
            started, clock = datetime.now(UTC), time.perf_counter()
            bg.sink.send(Job(SYNC_ACCOUNT, {"account_id": account_id}))
            bg.wait()
            total = time.perf_counter() - clock
        marks = moments(runtime, [account_id], started)
        served = {k: n - before.get(k, 0) for k, n in sandbox.served().items()}
        served = {k: n for k, n in served.items() if n}
        requests = sum(served.values())
        refused = sandbox.refused()
        kept = stored(runtime)
        fetches.append(fetch_ceiling(sandbox, runtime, page_size))
        runtime.close()
    sandbox.stop()
    fetch = sorted(fetches)[1]
    fetch_rate = messages / fetch
    limit_rate = page_size * BUDGET
    ceiling = min(fetch_rate, limit_rate)
    synced, run = marks["synced"][0], marks["run"][0]
    rate = messages / run
    print(
        f"mailbox: {mailbox} ({messages:,} messages in the folders read, {kept:,} stored); "
        f"Graph latency added: {latency * 1000:.0f} ms a request"
    )
    print(
        f"ceiling: {ceiling:,.0f} msg/s = min(fetch {fetch_rate:,.0f} msg/s: the sandbox "
        f"answered every page of {page_size} in {fetch:.2f} s; budget {limit_rate:,.0f} msg/s: "
        f"{page_size} x {BUDGET:.1f} requests/s)"
    )
    print(
        f"initial sync: the run took {run:.2f} s ({synced:.2f} s from the enqueue), "
        f"{rate:,.0f} msg/s = {rate / ceiling:.2f} of the ceiling "
        f"(goal >= 0.9); {requests} requests ({1000 * requests / messages:.1f} per 1,000 "
        f"messages: {served}); {requests / 10_000:.2%} of the 10-minute budget; "
        f"429s: {sum(refused.values())}"
    )
    sent = marks["sent"][0]
    print(
        f"first usable queue (Sent Items in): {sent:.2f} s; full sync: {synced:.2f} s; "
        f"everything derived: {total:.2f} s"
    )


def many_accounts(mailbox: Path, count: int, threads: int, page_size: int, latency: float) -> None:
    root = Path(tempfile.mkdtemp())
    copies = [mailbox] + [
        moved_copy(mailbox, 3 * n, root / "mail" / f"copy{n}") for n in range(1, count)
    ]
    sandboxes = [RemoteSandbox([copy], f"owner{i}@example.com") for i, copy in enumerate(copies)]
    for box in sandboxes:
        box.slow_down(latency)
    try:
        runtime = build_runtime(settings(root / "home"))
        ids = [
            connect_account(runtime, "microsoft", box.url, SINCE).account_id for box in sandboxes
        ]
        messages = sum(box.readable() for box in sandboxes)
        with background(runtime, threads=threads) as bg:
            started, clock = datetime.now(UTC), time.perf_counter()
            for account_id in ids:
                bg.sink.send(Job(SYNC_ACCOUNT, {"account_id": account_id}))
            bg.wait()
            total = time.perf_counter() - clock
        times = sorted(moments(runtime, ids, started)["synced"])
        kept = stored(runtime)
        requests = sum(sum(box.served().values()) for box in sandboxes)
        refused = sum(sum(box.refused().values()) for box in sandboxes)
        runtime.close()
    finally:
        for box in sandboxes:
            box.stop()
        shutil.rmtree(root, ignore_errors=True)
    print(
        f"{count} mailboxes at once, one worker with {threads} threads: {messages:,} messages "
        f"({kept:,} stored) in {total:.1f} s ({messages / total:,.0f} msg/s overall); "
        f"{requests:,} requests, 429s: {refused}"
    )
    print("accounts synced after (s): " + ", ".join(f"{t:.1f}" for t in times))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--mailbox", type=Path, default=DEFAULT)
    ap.add_argument("--accounts", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--latency", type=float, default=0.0, help="seconds added to every Graph answer"
    )
    args = ap.parse_args()
    one_account(args.mailbox, PAGE_SIZE, args.latency)
    if args.accounts > 1:
        many_accounts(args.mailbox, args.accounts, args.threads, PAGE_SIZE, args.latency)


if __name__ == "__main__":
    main()
