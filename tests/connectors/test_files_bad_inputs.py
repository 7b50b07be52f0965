"""Bad content never raises: each bad file becomes Unreadable and the good rest still comes out."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from keepwarm.connectors.files import read_paths, total_bytes
from keepwarm.connectors.types import Address, CalendarEvent, MailMessage, Unreadable

BAD = Path(__file__).resolve().parents[1] / "data" / "bad"
WIDE = (datetime(1990, 1, 1, tzinfo=UTC), datetime(2040, 1, 1, tzinfo=UTC))


def by_file(records: list[MailMessage | CalendarEvent | Unreadable]) -> dict[str, list[str]]:
    """File name -> what came out of it, as short labels."""
    found: dict[str, list[str]] = {}
    for record in records:
        name = record.source.removeprefix(f"{BAD}/").split("#", 1)[0]
        if isinstance(record, Unreadable):
            label = f"unreadable: {record.reason}"
        else:
            label = type(record).__name__
        found.setdefault(name, []).append(label)
    return found


def test_bad_inputs_beside_good_ones() -> None:
    records = list(read_paths([BAD], window=WIDE))
    found = by_file(records)
    assert found["good.eml"] == ["MailMessage"]
    assert found["binary-garbage"] == ["unreadable: binary data, not a message"]
    assert found["empty.eml"] == ["unreadable: empty: no headers"]
    assert found["truncated.eml"] == ["unreadable: truncated inside the headers"]
    assert found["undecodable-headers.eml"] == ["unreadable: undecodable header: From, To"]
    assert found["not-an-mbox.gz"] == ["unreadable: compressed file that is not an mbox"]
    # The first half of a gzip holds 17 whole messages; then the stream ends too early.
    assert found["truncated.mbox.gz"] == ["MailMessage"] * 17 + [
        "unreadable: read error: compressed file is truncated"
    ]
    garbled = found["garbled.ics"]
    assert garbled.count("CalendarEvent") == 1
    assert len(garbled) == 3  # the file's damage, the garbled event, the valid event
    assert len(found) == 8
    (valid,) = [r for r in records if isinstance(r, CalendarEvent)]
    assert (valid.uid, valid.start) == (
        "valid@keepwarm.test",
        datetime(2020, 3, 10, 18, tzinfo=UTC),
    )
    (good,) = [r for r in records if isinstance(r, MailMessage) and r.source.endswith("good.eml")]
    assert good.sender == Address("benjamin.rogers@enron.com", "Benjamin Rogers")
    assert good.folder == "bad"


def test_undecodable_addresses_are_dropped_not_guessed(tmp_path: Path) -> None:
    # Latin-1 in a display name is read; non-UTF-8 bytes inside an address are not guessed at.
    path = tmp_path / "mixed.eml"
    path.write_bytes(
        b"From: Jos\xe9 <jose@example.com>\nTo: <d\xe9laney@enron.com>, ok@example.com\n\nbody\n"
    )
    (parsed,) = read_paths([path], window=WIDE)
    assert isinstance(parsed, MailMessage)
    assert parsed.sender == Address("jose@example.com", "José")
    assert parsed.to == (Address("ok@example.com", None),)
    assert parsed.problems == (
        "not UTF-8, read as Latin-1: From",
        "not UTF-8, read as Latin-1: To",
        "no Date header",
    )


def test_huge_header_block_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.eml"
    path.write_bytes(b"From: a@example.com\nX-Junk: " + b"x" * (3 << 20) + b"\n\nbody\n")
    assert list(read_paths([path], window=WIDE)) == [
        Unreadable(str(path), "header block over 1 MiB")
    ]


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads unreadable files"
)
def test_unreadable_file_and_folder(tmp_path: Path) -> None:
    locked = tmp_path / "locked.eml"
    locked.write_bytes((BAD / "good.eml").read_bytes())
    locked.chmod(0)
    shut = tmp_path / "shut"
    shut.mkdir()
    (tmp_path / "open.eml").write_bytes((BAD / "good.eml").read_bytes())
    shut.chmod(0)
    try:
        records = list(read_paths([tmp_path], window=WIDE))
        assert total_bytes([tmp_path]) >= 0
    finally:
        locked.chmod(0o644)
        shut.chmod(0o755)
    assert Unreadable(str(locked), "cannot read: Permission denied") in records
    assert Unreadable(str(shut), "cannot list folder: Permission denied") in records
    assert sum(isinstance(r, MailMessage) for r in records) == 1
