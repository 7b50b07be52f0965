"""`keepwarm demo` on the bundled sample, as the Quick start runs it."""

from __future__ import annotations

import json
import re
from pathlib import Path

from keepwarm.services.core.config import Settings
from tests.support.cli import run_cli, run_json


def test_demo_imports_the_sample_and_shows_a_queue(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    out = run_cli(settings, "demo")
    assert "synced in" in out
    assert "Reconnect queue as of 2001-02-28" in out
    assert "you talked every" in out
    assert "Where next" in out
    # The demo's data is left where it says, and answers the commands it suggests
    demo = Settings(home=tmp_path / "home" / "demo")
    [account] = run_json(demo, "accounts")  # synced through the sandbox, every message once
    # All 997 accounted for: three carry a Date of 1979 (a broken client's "no date"), which
    # is what the sandbox's internalDate says too, so they were received before the window.
    assert (account["email"], account["messages"]) == ("david.delainey@enron.com", 994)
    assert account["last_run"]["status"] == "ok"
    assert account["last_run"]["seen"] == 997
    assert account["last_run"]["filtered"] == {"received before the sync window": 3}
    queue = json.loads(run_cli(demo, "suggestions", "--as-of", "2001-02-28", "--json"))
    assert len(queue) >= 10
    assert all(item["last_interaction_at"] < "2001-03-01" for item in queue)


def test_demo_from_files_starts_afresh_each_time(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    first = run_cli(settings, "demo", "--from-files")
    again = run_cli(settings, "demo", "--from-files")
    assert re.search(r"imported\s+997\b", again)  # not "duplicates": the old data is gone
    assert "you are: david.delainey@enron.com, w..delainey@enron.com" in again
    assert first.count("you talked every") == again.count("you talked every")
