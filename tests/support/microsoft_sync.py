"""Syncing the Microsoft sandbox's mailbox through the CLI and the workers, and the outcome of
one fault-free run to compare fault runs with."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from keepwarm.connectors.sandbox.microsoft import MicrosoftSandbox
from keepwarm.services.core.config import Settings
from tests.support.cli import run_cli
from tests.support.paths import MAILBOX
from tests.support.sync import CleanOutcome, record_clean_run

__all__ = [
    "APP_ID",
    "DELTA",
    "CleanMicrosoftRun",
    "clean_microsoft_run",
    "connect_microsoft",
]

DELTA = "message.delta"
# The app id keepwarm presents unless KEEPWARM_MICROSOFT_CLIENT_ID says otherwise; Outlook's
# limits are per app and mailbox.
APP_ID = "keepwarm-local"


def connect_microsoft(settings: Settings, sandbox: MicrosoftSandbox, *extra: str) -> str:
    """`keepwarm connect microsoft` against `sandbox`, reading everything since 1999."""
    return run_cli(
        settings, "connect", "microsoft", "--sandbox", sandbox.url, "--since", "1999-01-01", *extra
    )


@dataclass(frozen=True)
class CleanMicrosoftRun(CleanOutcome):
    """What a fault-free sync of MAILBOX through Graph leaves behind."""

    delta_pages: int


def clean_microsoft_run(home: Path, seeds: Sequence[Path] = MAILBOX) -> CleanMicrosoftRun:
    """Connect and sync `seeds` with nothing going wrong (embedded), and record the outcome."""
    return CleanMicrosoftRun(
        *record_clean_run(
            home,
            lambda: MicrosoftSandbox(list(seeds)),
            connect_microsoft,
            lambda box: box.served()[DELTA],
        )
    )
