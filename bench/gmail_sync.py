"""Benchmark: initial Gmail sync of the largest shared mailbox through the sandbox, quota on.

    python bench/gmail_sync.py [--mailbox ../shared/data/enron/delainey-d] [--accounts 10]
                               [--threads 2]

Prints, in one run:
- messages/s of the initial sync as a ratio of the quota ceiling (250 units/s per user over
  5 units per metadata get = 50 messages/s; goal >= 0.9), and the units/s actually spent as a
  ratio of the 250 units/s themselves (threads.get makes a message cheaper than 5 units, so
  messages/s can pass 50 while the pace stays under the quota);
- Gmail quota units spent per message (goal <= 5.2) beside the floor of this mailbox, the sum
  over its threads of min(5 x size, 10), and the requests Gmail refused for rate;
- the time to the first usable queue (sent mail in: the backfill's SENT phase done) beside the
  time to full sync;
- N accounts (each its own sandbox user with its own copy of the mailbox, dates moved by whole
  years so that every copy is new mail) syncing at once through one Dramatiq worker with
  `--threads` threads (embedded; each account keeps under its own quota), with the time each
  account's mail was all in.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pydantic import SecretStr  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from keepwarm.connectors.sandbox.google import GoogleSandbox  # noqa: E402
from keepwarm.services.core.config import Settings  # noqa: E402
from keepwarm.services.core.crypto import TokenCipher  # noqa: E402
from keepwarm.services.core.jobs import Job  # noqa: E402
from keepwarm.services.models import Message, StreamKind, SyncCursor  # noqa: E402
from keepwarm.services.runtime import Runtime, build_runtime  # noqa: E402
from keepwarm.workers.actors import SYNC_ACCOUNT  # noqa: E402
from keepwarm.workers.broker import background  # noqa: E402
from keepwarm.workers.cli.accounts import connect_account  # noqa: E402

DEFAULT = REPO.parent / "shared" / "data" / "enron" / "delainey-d"
# Everything: the moved copies carry Enron's 1979 placeholder dates into the 1980s.
SINCE = datetime(1970, 1, 2, tzinfo=UTC)
GET, THREAD = "gmail.users.messages.get", "gmail.users.threads.get"


def settings(home: Path) -> Settings:
    return Settings(
        home=home,
        database_url=None,
        redis_url=None,
        token_key=SecretStr(TokenCipher.generate_key()),
    )


def watch_phases(
    runtime: Runtime, ids: Sequence[int], started: float, out: dict[tuple[int, str], float]
) -> Callable[[], None]:
    """Note when each account leaves the SENT phase and when its backfill is done (polling
    the database every 50 ms, as a person refreshing `keepwarm accounts` would); returns a
    function that stops the watching."""
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(0.05):
            with runtime.session_factory() as session:
                for row in session.scalars(
                    select(SyncCursor).where(
                        SyncCursor.account_id.in_(ids), SyncCursor.kind == StreamKind.MAIL.value
                    )
                ):
                    now = time.perf_counter() - started
                    # The Gmail stream's cursor says its phase: sent, rest, trash, history.
                    phase = json.loads(row.cursor or "{}").get("phase", "sent")
                    if phase != "sent":
                        out.setdefault((row.account_id, "sent"), now)
                    if row.caught_up:
                        out.setdefault((row.account_id, "done"), now)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()

    def stop_watching() -> None:
        stop.set()
        thread.join()

    return stop_watching


def stored_messages(runtime: Runtime) -> int:
    with runtime.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(Message)) or 0)


def one_account(mailbox: Path) -> None:
    with tempfile.TemporaryDirectory() as home, GoogleSandbox([mailbox]) as sandbox:
        runtime = build_runtime(settings(Path(home)))
        account_id = connect_account(runtime, "google", sandbox.url, SINCE).account_id
        units_before = sandbox.units_spent()
        marks: dict[tuple[int, str], float] = {}
        with background(runtime) as bg:
            started = time.perf_counter()
            stop_watching = watch_phases(runtime, [account_id], started, marks)
            bg.sink.send(Job(SYNC_ACCOUNT, {"account_id": account_id}))
            bg.wait()
            total = time.perf_counter() - started
            stop_watching()
        messages = int(str(sandbox.stats()["messages"]))
        stored = stored_messages(runtime)
        units = sandbox.units_spent() - units_before
        calls = sandbox.call_counts()
        refused = sandbox.refused_counts()
        floor = sum(min(5 * size, 10) for size in sandbox.thread_sizes())
        runtime.close()
    rate = messages / total
    print(f"mailbox: {mailbox} ({messages:,} messages in the sandbox, {stored:,} stored)")
    print(
        f"initial sync: {total:.1f} s, {rate:.1f} msg/s = {rate / 50:.2f} of the 50 msg/s "
        f"quota ceiling (goal >= 0.9); pace {units / total:.0f} units/s = "
        f"{units / total / 250:.2f} of Gmail's 250 units/s"
    )
    print(
        f"quota: {units:,} units, {units / messages:.2f} units/message (goal <= 5.2; this "
        f"mailbox's floor {floor / messages:.2f}); {calls.get(GET, 0):,} messages.get, "
        f"{calls.get(THREAD, 0):,} threads.get; refused by quota: {sum(refused.values())}"
    )
    print(
        f"first usable queue (sent mail in): {marks.get((account_id, 'sent'), total):.1f} s; "
        f"full sync: {total:.1f} s"
    )


_DATE = re.compile(rb"^Date: (.*)$", re.M)
_MSGID = re.compile(rb"^Message-ID: <", re.M | re.I)


def moved_copy(mailbox: Path, years: int, dest: Path) -> Path:
    """The mailbox with every Date moved about `years` on and every Message-ID made new: the
    same shape of mail, but new mail (Gmail ids and keepwarm fingerprints both differ)."""
    later = timedelta(days=round(365.25 * years))
    for path in (p for p in mailbox.rglob("*") if p.is_file()):
        head, sep, body = path.read_bytes().partition(b"\n\n")

        def shift(m: re.Match[bytes]) -> bytes:
            try:
                when = parsedate_to_datetime(m.group(1).decode("latin-1"))
                return b"Date: " + format_datetime(when + later).encode()
            except (TypeError, ValueError, OverflowError):
                return m.group(0)

        head = _MSGID.sub(f"Message-ID: <copy{years}.".encode(), _DATE.sub(shift, head, 1))
        target = dest / path.relative_to(mailbox)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(head + sep + body)
    return dest


def many_accounts(mailbox: Path, count: int, threads: int) -> None:
    root = Path(tempfile.mkdtemp())
    copies = [mailbox] + [
        moved_copy(mailbox, 3 * n, root / "mail" / f"copy{n}") for n in range(1, count)
    ]
    sandboxes = [
        GoogleSandbox([copy], user_email=f"owner{i}@example.com").start()
        for i, copy in enumerate(copies)
    ]
    marks: dict[tuple[int, str], float] = {}
    try:
        runtime = build_runtime(settings(root / "home"))
        ids = [connect_account(runtime, "google", box.url, SINCE).account_id for box in sandboxes]
        units_before = sum(box.units_spent() for box in sandboxes)
        with background(runtime, threads=threads) as bg:
            started = time.perf_counter()
            stop_watching = watch_phases(runtime, ids, started, marks)
            for account_id in ids:
                bg.sink.send(Job(SYNC_ACCOUNT, {"account_id": account_id}))
            bg.wait()
            total = time.perf_counter() - started
            stop_watching()
        messages = sum(int(str(box.stats()["messages"])) for box in sandboxes)
        stored = stored_messages(runtime)
        units = sum(box.units_spent() for box in sandboxes) - units_before
        fetched = sum(box.call_counts().get(GET, 0) for box in sandboxes)
        thread_calls = sum(box.call_counts().get(THREAD, 0) for box in sandboxes)
        refused = sum(sum(box.refused_counts().values()) for box in sandboxes)
        runtime.close()
    finally:
        for box in sandboxes:
            box.stop()
        shutil.rmtree(root, ignore_errors=True)
    done = sorted(marks.get((i, "done"), total) for i in ids)
    print(
        f"{count} accounts at once, one worker with {threads} threads: {messages:,} messages "
        f"({stored:,} stored) in {total:.1f} s ({messages / total:.0f} msg/s overall); "
        f"{units:,} units, {fetched:,} messages.get, {thread_calls:,} threads.get, "
        f"refused by quota: {refused}"
    )
    print("accounts' mail all in after (s): " + ", ".join(f"{t:.1f}" for t in done))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--mailbox", type=Path, default=DEFAULT)
    ap.add_argument("--accounts", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    one_account(args.mailbox)
    if args.accounts > 1:
        many_accounts(args.mailbox, args.accounts, args.threads)


if __name__ == "__main__":
    main()
