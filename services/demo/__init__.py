"""The sample data `keepwarm demo` imports, shipped inside the package."""

from __future__ import annotations

from pathlib import Path

__all__ = ["SAMPLE_MAILBOX"]

SAMPLE_MAILBOX = Path(__file__).with_name("data") / "enron-delainey-sample.mbox.gz"
