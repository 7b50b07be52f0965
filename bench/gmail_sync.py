"""Benchmark: initial Gmail sync of the largest shared mailbox through the sandbox, quota on.

    python bench/gmail_sync.py [--mailbox ../shared/data/enron/delainey-d] [--accounts 10]

Prints, in one run:
- messages/s of the initial sync as a ratio of the quota ceiling (250 units/s per user over
  5 units per metadata get = 50 messages/s; goal >= 0.9);
- Gmail quota units spent per message (goal <= 5.2; the floor is min(5, 10 / thread size));
- the time to the first usable queue (sent mail in: the backfill's SENT phase done) beside the
  time to full sync;
- N accounts (each its own sandbox user) syncing at once through one Dramatiq worker with two
  threads (embedded; each account keeps under its own quota).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pydantic import SecretStr  # noqa: E402

from connectors.sandbox.google import GoogleSandbox  # noqa: E402
from services.config import Settings  # noqa: E402
from services.crypto import TokenCipher  # noqa: E402
from services.jobs import Job  # noqa: E402
from services.models import Account  # noqa: E402
from workers.actors import SYNC_ACCOUNT  # noqa: E402
from workers.broker import background  # noqa: E402
from workers.cli.accounts import connect_google  # noqa: E402
from workers.runtime import build_runtime  # noqa: E402

DEFAULT = REPO.parent / "shared" / "data" / "enron" / "delainey-d"
SINCE = datetime(1990, 1, 1, tzinfo=UTC)


def settings(home: Path) -> Settings:
    return Settings(home=home, token_key=SecretStr(TokenCipher.generate_key()))


def sent_phase_watch(runtime, account_id: int, started: float, out: dict[str, float]) -> None:  # type: ignore[no-untyped-def]
    while "sent" not in out:
        with runtime.session_factory() as session:
            account = session.get(Account, account_id)
            if account is not None and account.backfill_phase != "sent":
                out["sent"] = time.perf_counter() - started
                return
        time.sleep(0.05)


def one_account(mailbox: Path) -> None:
    with tempfile.TemporaryDirectory() as home, GoogleSandbox([mailbox]) as sandbox:
        runtime = build_runtime(settings(Path(home)))
        account_id = connect_google(runtime, sandbox.url, SINCE)
        units_before = sandbox.units_spent()
        marks: dict[str, float] = {}
        with background(runtime) as bg:
            started = time.perf_counter()
            watcher = threading.Thread(
                target=sent_phase_watch, args=(runtime, account_id, started, marks), daemon=True
            )
            watcher.start()
            bg.sink.send(Job(SYNC_ACCOUNT, {"account_id": account_id}))
            bg.wait()
            total = time.perf_counter() - started
        messages = sandbox.stats()["messages"]
        units = sandbox.units_spent() - units_before
        gets = sandbox.call_counts().get("gmail.users.messages.get", 0)
        refused = sandbox.refused_counts()
        runtime.close()
    rate = messages / total
    print(f"mailbox: {mailbox} ({messages:,} messages in the sandbox)")
    print(
        f"initial sync: {total:.1f} s, {rate:.1f} msg/s = {rate / 50:.2f} of the 50 msg/s "
        "quota ceiling (goal >= 0.9)"
    )
    print(
        f"quota: {units:,} units, {units / messages:.2f} units/message (goal <= 5.2); "
        f"{gets:,} metadata gets; refused by quota: {sum(refused.values())}"
    )
    print(
        f"first usable queue (sent mail in): {marks.get('sent', total):.1f} s; "
        f"full sync: {total:.1f} s"
    )


def many_accounts(mailbox: Path, count: int) -> None:
    root = Path(tempfile.mkdtemp())
    sandboxes = [
        GoogleSandbox([mailbox], user_email=f"owner{i}@example.com").start() for i in range(count)
    ]
    try:
        runtime = build_runtime(settings(root))
        ids = [connect_google(runtime, box.url, SINCE) for box in sandboxes]
        with background(runtime, threads=2) as bg:
            started = time.perf_counter()
            for account_id in ids:
                bg.sink.send(Job(SYNC_ACCOUNT, {"account_id": account_id}))
            bg.wait()
            total = time.perf_counter() - started
        messages = sum(box.stats()["messages"] for box in sandboxes)
        runtime.close()
    finally:
        for box in sandboxes:
            box.stop()
        shutil.rmtree(root, ignore_errors=True)
    print(
        f"{count} accounts at once, one worker with 2 threads: {messages:,} messages in "
        f"{total:.1f} s ({messages / total:.0f} msg/s overall)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--mailbox", type=Path, default=DEFAULT)
    ap.add_argument("--accounts", type=int, default=10)
    args = ap.parse_args()
    one_account(args.mailbox)
    if args.accounts > 1:
        many_accounts(args.mailbox, args.accounts)


if __name__ == "__main__":
    main()
