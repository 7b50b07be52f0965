"""`keepwarm demo --provider microsoft`: the same walk-through through the Microsoft sandbox."""

from __future__ import annotations

import json
from pathlib import Path

from keepwarm.services.core.config import Settings
from tests.support.cli import run_cli, run_json, run_process


def test_demo_through_microsoft_graph(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    out = run_cli(settings, "demo", "--provider", "microsoft")
    assert "Microsoft Graph" in out and "Graph requests" in out
    assert "Reconnect queue as of 2001-02-28" in out
    assert "; last: " in out  # each suggestion comes with its why-line
    demo = Settings(home=tmp_path / "home" / "demo")
    [account] = run_json(demo, "accounts")
    assert (account["provider"], account["email"]) == ("microsoft", "david.delainey@enron.com")
    assert account["last_run"]["status"] == "ok"
    # The same queue as the Google walk-through: the same mailbox, another provider
    queue = json.loads(run_cli(demo, "suggestions", "--as-of", "2001-02-28", "--json"))
    google = Settings(home=tmp_path / "google")
    run_cli(google, "demo")
    google_demo = Settings(home=tmp_path / "google" / "demo")
    assert queue == json.loads(
        run_cli(google_demo, "suggestions", "--as-of", "2001-02-28", "--json")
    )
    assert (tmp_path / "home" / "demo" / "digest.html").is_file()


def test_an_unknown_demo_provider_is_a_usage_error(tmp_path: Path) -> None:
    done = run_process(Settings(home=tmp_path / "home"), "demo", "--provider", "yahoo")
    assert done.returncode == 2 and "--provider" in done.stderr
