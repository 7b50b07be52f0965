"""Syncing the Microsoft sandbox's mailbox through the CLI and the workers, and the outcome of
one fault-free run to compare fault runs with."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from keepwarm.connectors.sandbox.microsoft import MicrosoftSandbox
from keepwarm.services.core.config import Settings
from tests.support.cli import run_cli, run_json
from tests.support.paths import MAILBOX
from tests.support.settings import keyed
from tests.support.sync import QUERIES, store

__all__ = [
    "APP_ID",
    "DELTA",
    "CleanMicrosoftRun",
    "assert_same_as_clean_microsoft",
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
class CleanMicrosoftRun:
    """What a fault-free sync of MAILBOX through Graph leaves behind."""

    answers: dict[tuple[str, ...], Any]
    messages: int
    delta_pages: int


def clean_microsoft_run(home: Path, seeds: Sequence[Path] = MAILBOX) -> CleanMicrosoftRun:
    """Connect and sync `seeds` with nothing going wrong (embedded), and record the outcome."""
    settings = keyed(Settings(home=home, database_url=None, redis_url=None))
    with MicrosoftSandbox(list(seeds)) as box:
        connect_microsoft(settings, box)
        pages = box.served()[DELTA]
    return CleanMicrosoftRun(
        {query: run_json(settings, *query) for query in QUERIES},
        run_json(settings, "accounts")[0]["messages"],
        pages,
    )


def assert_same_as_clean_microsoft(settings: Settings, clean: CleanMicrosoftRun) -> None:
    """Nothing lost, nothing doubled: the same queue, contacts and messages as a clean run."""
    for query in QUERIES:
        assert run_json(settings, *query) == clean.answers[query], query
    [account] = run_json(settings, "accounts")
    assert account["messages"] == clean.messages
    assert account["phase"] == "incremental"
    with store(settings) as db:
        assert db.doubled() == []
