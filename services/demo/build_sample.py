"""Rebuild the demo sample from the shared Enron corpus (a maintainer's tool, not run by users).

    python -m keepwarm.services.demo.build_sample ../shared/data/enron/delainey-d

Each distinct message of the mailbox (Enron keeps copies in several folders) is written once,
headers only, into a gzipped mbox in Google Takeout's shape: an `X-Gmail-Labels` header says
`Sent` for mail from the owner's sent folders, `Inbox`, `Trash` or `Archived` otherwise. The
bodies are dropped: keepwarm never reads them, and the sample stays small.
"""

from __future__ import annotations

import gzip
import sys
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path

from keepwarm.services.demo import SAMPLE_MAILBOX

_SENT = {"sent", "_sent_mail", "sent_items"}
_LABELS = {"inbox": "Inbox", "deleted_items": "Trash"}
_DROP = {"x-folder", "x-origin", "x-filename"}


def build(root: Path, out: Path) -> int:
    parser = BytesHeaderParser(policy=compat32)
    seen: dict[tuple[str, ...], int] = {}
    blocks: list[tuple[str, list[str], bytes]] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        folder = path.relative_to(root).parts[0]
        raw = path.read_bytes()
        head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
        msg = parser.parsebytes(head)
        key = tuple(str(msg.get(h, "")) for h in ("From", "To", "Cc", "Date", "Subject"))
        label = "Sent" if folder in _SENT else _LABELS.get(folder, "Archived")
        if key in seen:
            labels = blocks[seen[key]][1]
            if label not in labels:
                labels.append(label)
            continue
        seen[key] = len(blocks)
        lines = [
            line
            for line in head.split(b"\n")
            if line.split(b":", 1)[0].strip().lower().decode("latin-1") not in _DROP
        ]
        blocks.append((str(msg.get("Date", "")), [label], b"\n".join(lines).rstrip(b"\r")))
    with gzip.open(out, "wb", compresslevel=9) as f:
        for _, labels, head in blocks:
            f.write(b"From keepwarm-demo Mon Jan  1 00:00:00 2001\n")
            f.write(b"X-Gmail-Labels: " + ",".join(sorted(labels)).encode() + b"\n")
            f.write(head + b"\n\n")
    return len(blocks)


if __name__ == "__main__":
    count = build(Path(sys.argv[1]), SAMPLE_MAILBOX)
    print(f"wrote {count} messages to {SAMPLE_MAILBOX}")
