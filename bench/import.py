"""Benchmark: import + derive the largest shared mailbox, beside a bare header parse.

    python bench/import.py [--mailbox ../shared/data/enron/delainey-d]

Prints, in one run:
- the anchor: Python's compat32 header-only parse of every file plus `getaddresses` on
  From/To/Cc and the date (what any importer must at least do), in messages/s;
- keepwarm's full import + derivation (SQLite, in-process broker and worker) of the same files,
  timed inside the process so interpreter start-up is not counted, and its ratio to the anchor
  (goal: at most 3x the anchor's time);
- peak RSS of the whole `keepwarm import` process for the mailbox copied 1x, 2x and 4x (each copy
  shifted in time, so every copy is new mail), and the ratios (goal: flat).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT = REPO.parent / "shared" / "data" / "enron" / "delainey-d"


def files_of(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def bare_parse(files: list[Path]) -> float:
    """The anchor: header-only parse with the stdlib, addresses and date; returns seconds.

    Only the header block is handed to the parser (split at the first blank line), as any
    careful importer would: parsing the whole file would flatter keepwarm's ratio.
    """
    parser = BytesHeaderParser(policy=compat32)
    start = time.perf_counter()
    for path in files:
        raw = path.read_bytes()
        end = raw.find(b"\n\n")
        msg = parser.parsebytes(raw if end < 0 else raw[: end + 1])
        getaddresses([str(v) for h in ("From", "To", "Cc") for v in msg.get_all(h, [])])
        with contextlib.suppress(TypeError, ValueError):
            parsedate_to_datetime(str(msg.get("Date", "")))
    return time.perf_counter() - start


def child(home: Path, mailbox: Path) -> None:
    """Run inside a fresh process: import + derive, print timings as JSON."""
    sys.path.insert(0, str(REPO))
    from keepwarm.services.core.config import Settings
    from keepwarm.services.runtime import build_runtime
    from keepwarm.workers.cli.importing import run_import

    runtime = build_runtime(Settings(home=home))
    start = time.perf_counter()
    summary = run_import(runtime, [mailbox], [], show_progress=False)
    elapsed = time.perf_counter() - start
    runtime.close()
    print(
        json.dumps(
            {
                "seconds": elapsed,
                "seen": summary.messages_seen,
                "imported": summary.messages_imported,
            }
        )
    )


def run_child(mailbox: Path) -> tuple[dict[str, float], float]:
    """Import in a subprocess; return its timings and its peak RSS in MiB."""
    with tempfile.TemporaryDirectory() as home:
        proc = subprocess.Popen(
            [sys.executable, __file__, "--child", home, str(mailbox)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            raise SystemExit(f"import failed with status {proc.returncode}")
        return json.loads(out.strip().splitlines()[-1]), usage.ru_maxrss / 1024


_DATE = re.compile(rb"^Date: (.*)$", re.M)
_MSGID = re.compile(rb"^Message-ID: <", re.M | re.I)


def copies(mailbox: Path, times: int, dest: Path) -> Path:
    """The mailbox `times` over, each copy's dates moved by whole years so all mail is new."""
    from email.utils import format_datetime

    for n in range(times):
        for path in files_of(mailbox):
            raw = path.read_bytes()
            head, sep, body = raw.partition(b"\n\n")
            if n:

                def shift(m: re.Match[bytes], n: int = n) -> bytes:
                    try:
                        when = parsedate_to_datetime(m.group(1).decode("latin-1"))
                        return (
                            b"Date: "
                            + format_datetime(when.replace(year=when.year + 3 * n)).encode()
                        )
                    except (TypeError, ValueError):
                        return m.group(0)

                head = _MSGID.sub(f"Message-ID: <copy{n}.".encode(), _DATE.sub(shift, head, 1))
            target = dest / f"copy{n}" / path.relative_to(mailbox)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(head + sep + body)
    return dest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--mailbox", type=Path, default=DEFAULT)
    ap.add_argument("--child", nargs=2, metavar=("HOME", "MAILBOX"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(Path(args.child[0]), Path(args.child[1]))
        return
    files = files_of(args.mailbox)
    bare = min(bare_parse(files) for _ in range(3))
    print(f"mailbox: {args.mailbox} ({len(files):,} files)")
    print(f"anchor  bare compat32 header parse: {bare:.2f} s, {len(files) / bare:,.0f} msg/s")
    runs = [run_child(args.mailbox) for _ in range(3)]
    best = min(runs, key=lambda r: r[0]["seconds"])
    timing, rss1 = best
    print(
        f"keepwarm import + derive:           {timing['seconds']:.2f} s, "
        f"{len(files) / timing['seconds']:,.0f} msg/s "
        f"({int(timing['imported']):,} distinct of {int(timing['seen']):,} read)"
    )
    print(f"ratio to anchor: {timing['seconds'] / bare:.2f}x (goal <= 3x)")
    with tempfile.TemporaryDirectory() as tmp:
        rss = {1: rss1}
        for times in (2, 4):
            dest = copies(args.mailbox, times, Path(tmp) / f"x{times}")
            t, rss[times] = run_child(dest)
            print(f"  {times}x input: {t['seconds']:.2f} s for {int(t['seen']):,} messages")
            shutil.rmtree(dest)
    print(
        "peak RSS of `keepwarm import`: " + ", ".join(f"{k}x {v:.0f} MiB" for k, v in rss.items())
    )
    print(f"RSS ratio 2x/1x {rss[2] / rss[1]:.2f}, 4x/1x {rss[4] / rss[1]:.2f} (goal: flat)")


if __name__ == "__main__":
    main()
