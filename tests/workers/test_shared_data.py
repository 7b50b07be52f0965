"""The slow tier: the whole shared data sets through the real import-to-queue path."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from keepwarm.services.core.config import Settings
from tests.support.cli import run_cli, run_json
from tests.support.settings import production_settings

pytestmark = pytest.mark.slow

# CMU's dean-c holds the folders of two people (Clint Dean's CDEAN and Craig Dean's CDEAN2),
# so both are the owner of that mailbox. The home accounts (houston.rr.com) carry exactly the
# owner's name and are recognised as the owner's own.
ENRON_OWNERS = {
    "delainey-d": "david.delainey@enron.com, w..delainey@enron.com",
    "dean-c": "cdean2@houston.rr.com, clint.dean@enron.com, craig.dean@enron.com",
    "badeer-r": "rbadeer@enron.com, robert.badeer@enron.com",
    "cuilla-m": "martin.cuilla@enron.com, martin_cuilla@enron.com, mcuilla@houston.rr.com",
}


@pytest.mark.parametrize("mailbox", sorted(ENRON_OWNERS))
def test_rich_enron_mailboxes(shared_data: Path, tmp_path: Path, mailbox: str) -> None:
    settings = Settings(home=tmp_path)
    out = run_cli(settings, "import", str(shared_data / "enron" / mailbox))
    assert f"you are: {ENRON_OWNERS[mailbox]}\n" in out
    owner = set(re.findall(r"you are: (.*)", out)[0].split(", "))
    queue = run_json(settings, "suggestions", "--as-of", "2002-06-30", "--limit", "100")
    assert queue, f"{mailbox}: no suggestions"
    for item in queue:
        assert item["emails_sent"] + item["meetings"] > 0
        # The inferred addresses are never suggested. (The owner's other accounts, such as
        # Clint Dean's home address, are the identity work of issue 3.)
        assert not set(item["contact"]["addresses"]) & owner
    before = run_json(settings, "contacts")
    run_cli(settings, "import", str(shared_data / "enron" / mailbox))
    assert run_json(settings, "contacts") == before


def test_every_enron_mailbox_imports(shared_data: Path, tmp_path: Path) -> None:
    for mailbox in sorted(p for p in (shared_data / "enron").iterdir() if p.is_dir()):
        settings = Settings(home=tmp_path / mailbox.name)
        out = run_cli(settings, "import", str(mailbox))
        assert re.search(r"unreadable\s+0\b", out), (mailbox.name, out)
        run_json(settings, "suggestions")


def test_whole_list_archive_gives_no_relationships(shared_data: Path, tmp_path: Path) -> None:
    archive = shared_data / "mailing-list" / "apparmor" / "apparmor.lists.ubuntu.com.mbox"
    # Even claiming to be its most active poster: everything there is list traffic
    settings = Settings(home=tmp_path)
    out = run_cli(settings, "import", str(archive), "--me", "john.johansen@canonical.com")
    assert re.search(r"imported\s+2,8\d\d\b", out), out
    assert re.search(r"mailing list\s+2,8\d\d\b", out), out
    assert run_json(settings, "suggestions") == []
    assert run_json(settings, "contacts") == []


def test_mime_and_calendar_sets_import_without_errors(shared_data: Path, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    out = run_cli(
        settings,
        "import",
        str(shared_data / "mime"),
        str(shared_data / "calendars"),
        "--me",
        "someone@example.com",
    )
    assert re.search(r"messages read\s+[1-9]", out), out
    assert re.search(r"calendar events read\s+[1-9]", out), out
    run_json(settings, "contacts")


@pytest.mark.integration
def test_postgres_and_redis_give_the_same_queue_as_embedded(
    shared_data: Path, tmp_path: Path, pg_url: str, redis_url: tuple[str, str]
) -> None:
    mailbox = str(shared_data / "enron" / "delainey-d")
    embedded = Settings(home=tmp_path / "embedded")
    production = production_settings(tmp_path / "prod", pg_url, *redis_url)
    for settings in (embedded, production):
        run_cli(settings, "import", mailbox)
    query = ("suggestions", "--as-of", "2001-06-30", "--limit", "200")
    assert run_json(production, *query) == run_json(embedded, *query)
    assert run_json(production, "contacts") == run_json(embedded, "contacts")
