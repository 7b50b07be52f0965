"""Identity on real mail through the CLI: merges, candidates, the user's decisions."""

from __future__ import annotations

from pathlib import Path

from keepwarm.services.core.config import Settings
from tests.support.cli import run_cli, run_json
from tests.support.paths import TEST_DATA

ENRON = str(TEST_DATA / "enron" / "delainey-d")


def person(settings: Settings, address: str) -> list[str]:
    return list(run_json(settings, "contact", address)["addresses"])


def test_gmail_spellings_are_one_person_other_domains_are_not(tmp_path: Path) -> None:
    box = tmp_path / "mail"
    (box / "sent").mkdir(parents=True)
    for n, to in enumerate(
        [
            "Ann Lee <ann.lee@gmail.com>",
            "Ann Lee <annlee+work@gmail.com>",
            "Bo Chan <bo.chan@example.com>",
            "Bo Chan <bochan@example.com>",
        ]
    ):
        (box / "sent" / str(n)).write_text(
            f"From: me@example.org\nTo: {to}\nSubject: hi {n}\n"
            f"Date: Mon, {n + 1} Jan 2001 10:00:00 +0000\n\nbody\n"
        )
    settings = Settings(home=tmp_path / "home")
    run_cli(settings, "import", str(box))
    assert person(settings, "ann.lee@gmail.com") == ["ann.lee@gmail.com", "annlee+work@gmail.com"]
    # Same name, different mailbox names on one company domain: offered, not merged
    assert person(settings, "bo.chan@example.com") == ["bo.chan@example.com"]
    candidates = run_json(settings, "contacts", "--merge-candidates")
    assert {
        "address": "bo.chan@example.com",
        "other": "bochan@example.com",
        "reason": "both are called 'bo chan'",
    } in candidates


def test_user_merge_and_split_survive_reimport(embedded_settings: Settings) -> None:
    run_cli(embedded_settings, "import", ENRON)
    a, b = "joseph.sutton@enron.com", "wayne.mays@enron.com"
    run_cli(embedded_settings, "merge", a, b)
    merged = run_json(embedded_settings, "contact", a)
    assert merged["addresses"] == [a, b]
    run_cli(embedded_settings, "import", ENRON)
    assert person(embedded_settings, b) == [a, b]
    run_cli(embedded_settings, "split", b)
    assert person(embedded_settings, b) == [b]
    assert person(embedded_settings, a) == [a]
    run_cli(embedded_settings, "import", ENRON)
    assert person(embedded_settings, b) == [b]
    # The split address keeps its own history, re-derived from the mail
    assert run_json(embedded_settings, "contact", b)["emails_sent"] > 0
