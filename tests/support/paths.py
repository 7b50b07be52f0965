"""Where the repository and its small real data slices are (tests/data, see its README)."""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "DAILY",
    "ENRON",
    "MAILBOX",
    "RECEIPT",
    "RECUR",
    "REPO",
    "SANDBOX_OWNER",
    "TAKEOUT",
    "TEST_DATA",
]

REPO = Path(__file__).resolve().parents[2]
TEST_DATA = REPO / "tests" / "data"
ENRON = TEST_DATA / "enron" / "delainey-d"
# Mail whose Date and receipt time disagree (delayed, resent, forged): Gmail lists by receipt.
RECEIPT = TEST_DATA / "receipt" / "delainey-receipt-times.mbox"
# The mailbox the sync tests connect: the Enron slice and the receipt-time mail beside it.
MAILBOX = (ENRON, RECEIPT)
TAKEOUT = TEST_DATA / "takeout" / "All mail Including Spam and Trash.mbox"
RECUR = TEST_DATA / "ics" / "icaljs" / "recur_instances.ics"
DAILY = TEST_DATA / "ics" / "icaljs" / "daily_recur.ics"
# Whose mailbox the sandbox seeded with ENRON serves.
SANDBOX_OWNER = "david.delainey@enron.com"
