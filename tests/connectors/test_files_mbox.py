"""mbox and mbox.gz: the AppArmor list slice, a Takeout mbox, splitting rules, flat memory."""

from __future__ import annotations

import dataclasses
import gzip
import tracemalloc
import types
from datetime import UTC, datetime
from pathlib import Path

from keepwarm.connectors.files import read_paths
from keepwarm.connectors.types import Address, MailMessage, Unreadable

DATA = Path(__file__).resolve().parents[1] / "data"
SLICE = DATA / "apparmor-slice.mbox"
WIDE = (datetime(1990, 1, 1, tzinfo=UTC), datetime(2040, 1, 1, tzinfo=UTC))


def read(path: Path) -> list[MailMessage | Unreadable]:
    records = list(read_paths([path], window=WIDE))
    assert all(isinstance(r, MailMessage | Unreadable) for r in records)
    return records  # type: ignore[return-value]


def messages(path: Path) -> list[MailMessage]:
    records = read(path)
    assert all(isinstance(r, MailMessage) for r in records), records
    return records  # type: ignore[return-value]


def test_list_archive_slice() -> None:
    found = messages(SLICE)
    assert len(found) == 150
    assert [m.source for m in found[:2]] == [f"{SLICE}#1", f"{SLICE}#2"]
    assert found[-1].source == f"{SLICE}#150"
    assert {m.list_id for m in found} == {"AppArmor discussion <apparmor.lists.ubuntu.com>"}
    assert all(m.list_unsubscribe and m.precedence == "list" for m in found)
    assert all(m.folder is None and not m.in_sent_folder for m in found)
    first = found[0]
    assert first.sender == Address("akpm@linux-foundation.org", "Andrew Morton")
    assert first.to == (Address("mcgrof@kernel.org", "Luis Chamberlain"),)
    assert len(first.cc) == 28
    assert first.sent_at == datetime(2023, 3, 9, 22, 27, 46, tzinfo=UTC)
    assert first.in_reply_to == "ZApZj9DmMYKuCQ3g@bombadil.infradead.org"
    assert first.message_id == "20230309142746.0bc649a31e76bc46fd929304@linux-foundation.org"


def test_dmarc_munged_senders_keep_the_author_in_reply_to() -> None:
    via = [
        m for m in messages(SLICE) if m.sender and (m.sender.name or "").endswith("via AppArmor")
    ]
    assert len(via) == 4
    assert {m.sender.email for m in via if m.sender} == {"apparmor@lists.ubuntu.com"}
    assert via[0].reply_to == (Address("rppt@kernel.org", "Mike Rapoport"),)


def test_gzip_mbox_reads_like_the_plain_one() -> None:
    packed = messages(DATA / "apparmor-slice-40.mbox.gz")
    plain = messages(SLICE)[:40]
    assert len(packed) == 40
    assert [dataclasses.replace(m, source="") for m in packed] == [
        dataclasses.replace(m, source="") for m in plain
    ]
    assert packed[0].source.endswith("apparmor-slice-40.mbox.gz#1")


def test_takeout_labels_mark_sent_mail() -> None:
    takeout = messages(DATA / "takeout" / "All mail Including Spam and Trash.mbox")
    assert [m.labels for m in takeout] == [
        ("Sent",),
        ("Sent", "Important"),
        ("Inbox", "Important"),
        ("Inbox", "Projects, 2002"),
        ("Inbox", "Category Updates"),
    ]
    assert [m.in_sent_folder for m in takeout] == [True, True, False, False, False]
    assert [m.thread_id for m in takeout][:2] == ["1650000000000000000", "1650000000000000001"]
    sent = takeout[0]
    assert sent.sender == Address("w..delainey@enron.com", "David W. Delainey")
    assert sent.to == (
        Address("neil.davies@enron.com", "Neil Davies"),
        Address("tharsilla.broussard@enron.com", "Tharsilla Broussard"),
    )
    assert sent.sent_at == datetime(2001, 12, 28, 20, 3, 29, tzinfo=UTC)


MBOXO = b"""From a@b Thu Jan  1 00:00:00 2001
From: a@example.com
To: b@example.com
Subject: one

Hello,
From here on this is body text, unescaped as in old mboxo files.

From c@d Thu Jan  1 00:00:00 2001
From: c@example.com
To: d@example.com
Subject: two

>From a quoted line
"""


def test_only_from_lines_after_an_empty_line_start_messages(tmp_path: Path) -> None:
    path = tmp_path / "old.mbox"
    path.write_bytes(MBOXO)
    assert [m.subject for m in messages(path)] == ["one", "two"]
    crlf = tmp_path / "crlf.mbox"
    crlf.write_bytes(MBOXO.replace(b"\n", b"\r\n"))
    assert [(m.subject, m.sender) for m in messages(crlf)] == [
        ("one", Address("a@example.com", None)),
        ("two", Address("c@example.com", None)),
    ]


def test_message_before_the_first_separator_and_headers_only_messages(tmp_path: Path) -> None:
    path = tmp_path / "odd.mbox"
    path.write_bytes(
        b"\nFrom: lone@example.com\nTo: x@example.com\n\nbody\n\n"
        b"From b Thu Jan  1 00:00:00 2001\nFrom: headers@example.com\nTo: only@example.com\n"
    )
    found = messages(path)
    assert [m.sender.email for m in found if m.sender] == [
        "lone@example.com",
        "headers@example.com",
    ]
    assert [m.source for m in found] == [f"{path}#1", f"{path}#2"]


def test_truncated_last_message(tmp_path: Path) -> None:
    path = tmp_path / "cut.mbox"
    path.write_bytes(MBOXO + b"\nFrom e@f Thu Jan  1 00:00:00 2001\nFrom: e@example.com\nTo: f@exa")
    records = read(path)
    assert [type(r) for r in records] == [MailMessage, MailMessage, Unreadable]
    assert records[-1] == Unreadable(f"{path}#3", "truncated inside the headers")


def test_empty_mbox(tmp_path: Path) -> None:
    path = tmp_path / "empty.mbox"
    path.write_bytes(b"")
    assert read(path) == []


def _count_and_peak(path: Path) -> tuple[int, int]:
    tracemalloc.start()
    try:
        count = 0
        for _ in read_paths([path], window=WIDE):
            count += 1
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return count, peak


def test_memory_does_not_grow_with_the_mailbox(tmp_path: Path) -> None:
    once = tmp_path / "once.mbox"
    once.write_bytes(SLICE.read_bytes())
    four = tmp_path / "four.mbox"
    four.write_bytes(SLICE.read_bytes() * 4)
    packed = tmp_path / "four.mbox.gz"
    packed.write_bytes(gzip.compress(four.read_bytes()))

    records = read_paths([four], window=WIDE)
    assert isinstance(records, types.GeneratorType)  # streamed, not collected
    records.close()

    _count_and_peak(once)  # warm up: imports, regex caches, interned strings
    count_1, peak_1 = _count_and_peak(once)
    count_4, peak_4 = _count_and_peak(four)
    count_gz, peak_gz = _count_and_peak(packed)
    assert (count_1, count_4, count_gz) == (150, 600, 600)
    # Four times the mail, about the same memory: well below a quarter of the file, and within
    # a generous margin of the single copy (the margin absorbs allocator noise, not messages).
    size_4 = four.stat().st_size
    assert peak_4 < size_4 / 8, (peak_4, size_4)
    assert peak_4 < 2 * peak_1 + 128 * 1024, (peak_1, peak_4)
    assert peak_gz < size_4 / 8, (peak_gz, size_4)


def test_progress_adds_up_to_the_file_size() -> None:
    for path in (SLICE, DATA / "apparmor-slice-40.mbox.gz"):
        consumed: list[int] = []
        for _ in read_paths([path], window=WIDE, progress=consumed.append):
            pass
        assert sum(consumed) == path.stat().st_size
        assert len(consumed) > 10  # advanced message by message, not once at the end
        assert min(consumed) >= 0
