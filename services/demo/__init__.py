"""The sample data `keepwarm demo` imports, shipped inside the package."""

from __future__ import annotations

from pathlib import Path

__all__ = ["DEMO_CALENDAR", "SAMPLE_MAILBOX"]

SAMPLE_MAILBOX = Path(__file__).with_name("data") / "enron-delainey-sample.mbox.gz"
# A made-up calendar for the sample's owner in the sample's last week: one small meeting with
# someone outside Enron (it earns a post-meeting prompt), and ones that do not (staff meeting,
# a declined lunch, an all-day offsite).
DEMO_CALENDAR = Path(__file__).with_name("data") / "demo-calendar.ics"
