"""Folder trees (the Enron slice) and maildirs: folders, sent folders, copies, order, progress."""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from keepwarm.connectors.files import read_paths, total_bytes
from keepwarm.connectors.types import Address, MailMessage, Unreadable

DATA = Path(__file__).resolve().parents[1] / "data"
ENRON = DATA / "enron" / "delainey-d"
WIDE = (datetime(1990, 1, 1, tzinfo=UTC), datetime(2040, 1, 1, tzinfo=UTC))
OWNER = {"david.delainey@enron.com", "w..delainey@enron.com"}


def messages(*paths: Path) -> list[MailMessage]:
    records = list(read_paths(list(paths), window=WIDE))
    assert all(isinstance(r, MailMessage) for r in records), records
    return records  # type: ignore[return-value]


def test_enron_slice_folders_and_sent_folders() -> None:
    found = messages(ENRON)
    assert len(found) == 242
    assert Counter(m.folder for m in found) == {
        "all_documents": 56,
        "_sent_mail": 49,
        "sent": 49,
        "discussion_threads": 48,
        "inbox": 22,
        "deleted_items": 9,
        "notes_inbox": 6,
        "sent_items": 3,
    }
    sent_folders = {"sent", "_sent_mail", "sent_items"}
    assert all(m.in_sent_folder == (m.folder in sent_folders) for m in found)
    # Sent folders hold the owner's mail, and some his assistants sent from his mailbox.
    senders = Counter(m.sender.email for m in found if m.in_sent_folder and m.sender)
    assert senders == {
        "david.delainey@enron.com": 90,
        "w..delainey@enron.com": 3,
        "kay.chapman@enron.com": 6,
        "beverly.stephens@enron.com": 2,
    }


def test_enron_copies_differ_only_in_folder_and_message_id() -> None:
    copies = [m for m in messages(ENRON) if m.subject == "RE: Confidential"]
    assert sorted(m.folder or "" for m in copies) == ["_sent_mail", "all_documents", "sent"]
    assert len({m.message_id for m in copies}) == 3
    assert {m.sent_at for m in copies} == {datetime(2000, 11, 9, 12, 8, tzinfo=UTC)}
    assert {m.to for m in copies} == {(Address("ojzeringue@tva.gov", "Oswald J Zeringue"),)}
    assert [m.in_sent_folder for m in sorted(copies, key=lambda m: m.folder or "")] == [
        True,  # _sent_mail
        False,  # all_documents
        True,  # sent
    ]


def test_enron_correspondents_recur_over_months() -> None:
    months: dict[str, set[tuple[int, int]]] = {}
    for m in messages(ENRON):
        if m.sent_at is None:
            continue
        for person in (m.sender, *m.to, *m.cc):
            if person is not None and person.email not in OWNER:
                months.setdefault(person.email, set()).add((m.sent_at.year, m.sent_at.month))
    assert months["joseph.sutton@enron.com"] == {(2000, 5), (2000, 6), (2000, 9), (2000, 10)}
    assert months["ojzeringue@tva.gov"] == {(2000, 9), (2000, 10), (2000, 11)}
    assert len(months["william.bradford@enron.com"]) == 5


def test_bad_dates_do_not_drop_messages() -> None:
    undated = [m for m in messages(ENRON) if m.sent_at is None]
    assert sorted(m.source.removeprefix(f"{ENRON}/") for m in undated) == [
        "all_documents/1_",
        "discussion_threads/588_",
    ]
    assert all(m.subject == "ENA 2000 Offsite" for m in undated)


def test_natural_deterministic_order() -> None:
    first = [m.source for m in messages(ENRON)]
    assert first == [m.source for m in messages(ENRON)]
    in_sent = [s.removeprefix(f"{ENRON}/sent/") for s in first if s.startswith(f"{ENRON}/sent/")]
    numbers = [int(name.rstrip("_")) for name in in_sent]
    assert numbers == sorted(numbers)  # "3_" before "126_", unlike plain string order
    assert first[0] == f"{ENRON}/_sent_mail/2_"


def test_a_single_file_has_no_folder_and_a_sent_folder_given_directly_keeps_its_name() -> None:
    (single,) = messages(ENRON / "sent" / "126_")
    assert single.folder is None and not single.in_sent_folder
    sent = messages(ENRON / "sent")
    assert len(sent) == 49
    assert {m.folder for m in sent} == {"sent"}
    assert all(m.in_sent_folder for m in sent)


def test_tree_with_calendars_mboxes_and_hidden_files(tmp_path: Path) -> None:
    root = tmp_path / "export"
    (root / "Archive").mkdir(parents=True)
    shutil.copyfile(ENRON / "inbox" / "18_", root / "Archive" / "opportunity.eml")
    shutil.copyfile(DATA / "apparmor-slice-40.mbox.gz", root / "Lists.mbox.gz")
    takeout = DATA / "takeout" / "All mail Including Spam and Trash.mbox"
    shutil.copyfile(takeout, root / "Sent.mbox")
    (root / "Sent Messages.mbox").mkdir()  # Apple Mail's export layout
    shutil.copyfile(takeout, root / "Sent Messages.mbox" / "mbox")
    shutil.copyfile(
        DATA / "ics" / "recurring-ical-events" / "issue_18_cancel_status.ics", root / "c.ics"
    )
    (root / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_bytes(b"ref: refs/heads/main\n")

    records = list(read_paths([root], window=WIDE))
    assert not [r for r in records if isinstance(r, Unreadable)]
    by_folder = Counter(getattr(r, "folder", "calendar") for r in records)
    assert by_folder == {
        "export/Lists": 40,
        "export/Sent": 5,
        "Sent Messages": 5,
        "Archive": 1,
        "calendar": 3,
    }
    # Messages of an mbox called "Sent" are filed in a sent folder.
    assert sum(getattr(r, "in_sent_folder", False) for r in records) == 10


def test_empty_folder_yields_nothing(tmp_path: Path) -> None:
    assert list(read_paths([tmp_path], window=WIDE)) == []
    assert total_bytes([tmp_path]) == 0


def test_maildir_folders_and_tmp() -> None:
    found = messages(DATA / "maildir")
    assert [(m.source.removeprefix(f"{DATA}/maildir/"), m.folder) for m in found] == [
        ("cur/1000000001.M1P1.keepwarm", "INBOX"),
        ("cur/1000000002.M1P1.keepwarm", "INBOX"),
        ("cur/1000000003.M1P1.keepwarm", "INBOX"),
        ("new/1000000004.M1P1.keepwarm", "INBOX"),
        ("new/1000000005.M1P1.keepwarm", "INBOX"),
        (".Sent/cur/1000000006.M1P1.keepwarm", "Sent"),
        (".Sent/cur/1000000007.M1P1.keepwarm", "Sent"),
    ]  # tmp/ holds a delivery in progress and is skipped
    assert [m.in_sent_folder for m in found] == [False] * 5 + [True] * 2
    assert found[5].sender == Address("w..delainey@enron.com", "David W. Delainey")
    assert found[2].subject == "Out of Office AutoReply: Urgent request for information"


def test_maildir_plus_plus_names(tmp_path: Path) -> None:
    root = tmp_path / "Maildir"
    for folder in (".Sent Items/cur", ".Archive.2001/new", "cur", "tmp"):
        (root / folder).mkdir(parents=True)
    shutil.copyfile(ENRON / "sent_items" / "43_", root / ".Sent Items" / "cur" / "1.M1P1.x")
    shutil.copyfile(ENRON / "inbox" / "2_", root / ".Archive.2001" / "new" / "2.M1P1.x")
    shutil.copyfile(ENRON / "inbox" / "1_", root / "cur" / "3.M1P1.x")
    (root / "dovecot-uidlist").write_bytes(b"3 V1 N4\n")  # index files beside cur/ are not mail
    folders = [(m.folder, m.in_sent_folder) for m in messages(root)]
    assert folders == [("INBOX", False), ("Archive/2001", False), ("Sent Items", True)]


def test_progress_reports_every_byte() -> None:
    paths = [ENRON, DATA / "maildir", DATA / "ics", DATA / "apparmor-slice-40.mbox.gz"]
    consumed: list[int] = []
    for _ in read_paths(paths, window=WIDE, progress=consumed.append):
        pass
    assert sum(consumed) == total_bytes(paths)
    # The maildir's tmp/ file is neither read nor counted.
    maildir_files = [
        p
        for p in (DATA / "maildir").rglob("*")
        if p.is_file() and "tmp" not in p.relative_to(DATA / "maildir").parts
    ]
    assert total_bytes([DATA / "maildir"]) == sum(p.stat().st_size for p in maildir_files)
