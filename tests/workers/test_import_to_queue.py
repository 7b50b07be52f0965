"""The whole slice, import to queue, through the real CLI, on both stacks.

`any_settings` runs each test on SQLite with the in-process broker and on PostgreSQL with
Redis (a real RedisBroker and an in-process Dramatiq worker).
"""

from __future__ import annotations

import gzip
import mailbox
from pathlib import Path

from sqlalchemy import func, select

from keepwarm.services.core.config import Settings
from keepwarm.services.core.db import make_engine
from keepwarm.services.models import DeadLetter, Interaction, Message, OwnerAddress, Person
from tests.support.cli import run_cli, run_json
from tests.support.paths import TEST_DATA

ENRON = TEST_DATA / "enron" / "delainey-d"
APPARMOR = TEST_DATA / "apparmor-slice.mbox"
AS_OF = "2001-12-31"
CONTRACT_KEYS = {
    "contact",
    "last_interaction_at",
    "months_silent",
    "typical_gap_days",
    "emails_sent",
    "emails_received",
    "meetings",
    "last_subject",
    "score",
    "why",
}


def table_counts(settings: Settings) -> dict[str, int]:
    engine = make_engine(settings.sqlalchemy_url())
    try:
        with engine.connect() as c:
            return {
                m.__tablename__: int(c.scalar(select(func.count()).select_from(m)) or 0)
                for m in (Message, Interaction, Person, OwnerAddress, DeadLetter)
            }
    finally:
        engine.dispose()


def test_enron_mailbox_gives_a_queue_of_people_the_owner_wrote_to(any_settings: Settings) -> None:
    out = run_cli(any_settings, "import", str(ENRON))
    assert "you are: david.delainey@enron.com" in out
    queue = run_json(any_settings, "suggestions", "--as-of", AS_OF, "--limit", "50")
    assert len(queue) >= 3
    for item in queue:
        assert item.keys() >= CONTRACT_KEYS
        assert item["emails_sent"] + item["meetings"] > 0
        assert item["months_silent"] > 3
        assert not any(a.endswith("delainey@enron.com") for a in item["contact"]["addresses"])
        assert item["last_interaction_at"] <= "2001-12-31T23:59:59.999999Z"
    scores = [item["score"] for item in queue]
    assert scores == sorted(scores, reverse=True)
    contacts = run_json(any_settings, "contacts", "--as-of", AS_OF)
    assert {c["addresses"][0] for c in contacts} >= {q["contact"]["addresses"][0] for q in queue}


def test_reimport_changes_nothing(any_settings: Settings) -> None:
    run_cli(any_settings, "import", str(ENRON))
    before = table_counts(any_settings)
    queue = run_json(any_settings, "suggestions", "--as-of", AS_OF)
    out = run_cli(any_settings, "import", str(ENRON))
    assert table_counts(any_settings) == before
    assert run_json(any_settings, "suggestions", "--as-of", AS_OF) == queue
    assert "imported" in out


def test_mailing_list_archive_yields_no_suggestions(any_settings: Settings) -> None:
    run_cli(any_settings, "import", str(APPARMOR))
    assert run_json(any_settings, "suggestions") == []
    assert run_json(any_settings, "contacts") == []


def test_as_of_uses_no_data_after_the_date(tmp_path: Path, embedded_settings: Settings) -> None:
    # Given the same mailbox cut at the date, imported into a second home
    cut = tmp_path / "cut.mbox"
    full = Settings(home=tmp_path / "full")
    run_cli(full, "import", str(ENRON))
    box = mailbox.mbox(cut)
    import email.utils

    for path in sorted(p for p in ENRON.rglob("*") if p.is_file()):
        msg = mailbox.mboxMessage(path.read_bytes())
        when = email.utils.parsedate_to_datetime(msg["Date"])
        if when.date().isoformat() <= "2001-06-30":
            folder = path.relative_to(ENRON).parts[0]
            if folder in {"sent", "_sent_mail", "sent_items"}:
                msg["X-Gmail-Labels"] = "Sent"
            box.add(msg)
    box.close()
    run_cli(embedded_settings, "import", str(cut))
    # Then the queue as of that date is the same whether later mail exists or not
    as_of = ("suggestions", "--as-of", "2001-06-30", "--limit", "100")
    assert run_json(embedded_settings, *as_of) == run_json(full, *as_of)


def test_gzipped_mbox_imports_like_the_plain_one(tmp_path: Path) -> None:
    plain, packed = Settings(home=tmp_path / "a"), Settings(home=tmp_path / "b")
    gz = tmp_path / "apparmor.mbox.gz"
    gz.write_bytes(gzip.compress(APPARMOR.read_bytes()))
    run_cli(plain, "import", str(APPARMOR))
    run_cli(packed, "import", str(gz))
    assert table_counts(plain) == table_counts(packed)
