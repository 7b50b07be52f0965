"""How many senders each noise rule removes, on the shared real data, with examples to check.

    python bench/noise.py [--examples 3]

For each data set (every Enron mailbox, the AppArmor list archive, the MIME fixtures) the
mailbox is imported in embedded mode and every message's filter reason is read back. Per rule it
prints the messages it filtered, the distinct senders it hit, and the senders it removed
entirely (none of their mail survives any rule), with a few sender/subject examples.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import select  # noqa: E402

from keepwarm.services.core.config import Settings  # noqa: E402
from keepwarm.services.models import Message  # noqa: E402
from keepwarm.services.runtime import build_runtime  # noqa: E402
from keepwarm.workers.cli.importing import run_import  # noqa: E402

DATA = REPO.parent / "shared" / "data"


def data_sets() -> list[tuple[str, list[Path]]]:
    sets = [(f"enron/{p.name}", [p]) for p in sorted((DATA / "enron").iterdir()) if p.is_dir()]
    sets.append(("apparmor list", [DATA / "mailing-list" / "apparmor"]))
    sets.append(("mime fixtures", [DATA / "mime"]))
    return sets


def measure(paths: list[Path]) -> tuple[int, dict[str, list[tuple[str, str]]], set[str]]:
    with tempfile.TemporaryDirectory() as home:
        runtime = build_runtime(Settings(home=Path(home)))
        run_import(runtime, paths, [], show_progress=False)
        hits: dict[str, list[tuple[str, str]]] = defaultdict(list)
        kept: set[str] = set()
        total = 0
        with runtime.session_factory() as session:
            for sender, subject, reason in session.execute(
                select(Message.sender, Message.subject, Message.filter_reason)
            ):
                total += 1
                # Reasons about the owner, not about the sender, do not count as noise rules.
                if reason in (None, "owner_unknown", "no_date", "to_self", "sent_by_delegate"):
                    if sender:
                        kept.add(sender)
                    continue
                hits[reason].append((sender or "?", subject or ""))
        runtime.close()
        return total, hits, kept


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--examples", type=int, default=3)
    args = ap.parse_args()
    totals: Counter[str] = Counter()
    removed_totals: Counter[str] = Counter()
    start = time.perf_counter()
    for name, paths in data_sets():
        total, hits, kept = measure(paths)
        print(f"\n== {name}: {total:,} distinct messages")
        for reason, rows in sorted(hits.items(), key=lambda kv: -len(kv[1])):
            senders = {s for s, _ in rows}
            removed = senders - kept
            totals[reason] += len(rows)
            removed_totals[reason] += len(removed)
            print(
                f"  {reason:22} {len(rows):6,} messages  {len(senders):5,} senders hit  "
                f"{len(removed):5,} removed entirely"
            )
            for (sender, subject), _ in Counter(rows).most_common(args.examples):
                print(f"      e.g. {sender[:40]:40}  {subject[:60]}")
    print("\n== all data sets")
    for reason, n in totals.most_common():
        print(f"  {reason:22} {n:6,} messages  {removed_totals[reason]:5,} senders removed")
    print(f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
