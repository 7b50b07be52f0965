"""detect_kind: every format, by name or by content, and what is refused."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from keepwarm.connectors.errors import SourceMissing, UnknownFormat
from keepwarm.connectors.files import SourceKind, detect_kind


def test_mbox_by_extension_and_by_first_line(data: Path, tmp_path: Path) -> None:
    assert detect_kind(data / "apparmor-slice.mbox") is SourceKind.MBOX
    plain = tmp_path / "archive"  # Thunderbird keeps folders as mbox files without extension
    shutil.copyfile(data / "apparmor-slice.mbox", plain)
    assert detect_kind(plain) is SourceKind.MBOX


def test_gzip_mbox_by_name_or_by_decompressed_start(data: Path, tmp_path: Path) -> None:
    assert detect_kind(data / "apparmor-slice-40.mbox.gz") is SourceKind.MBOX_GZ
    renamed = tmp_path / "backup.gz"
    shutil.copyfile(data / "apparmor-slice-40.mbox.gz", renamed)
    assert detect_kind(renamed) is SourceKind.MBOX_GZ
    with pytest.raises(UnknownFormat):
        detect_kind(data / "bad" / "not-an-mbox.gz")


def test_maildir_plain_and_maildir_plus_plus(data: Path, tmp_path: Path) -> None:
    assert detect_kind(data / "maildir") is SourceKind.MAILDIR
    # A Maildir++ root whose own cur/new are missing still is one.
    root = tmp_path / "Maildir"
    shutil.copytree(data / "maildir" / ".Sent", root / ".Sent")
    assert detect_kind(root) is SourceKind.MAILDIR


def test_any_other_folder_is_a_tree(data: Path, tmp_path: Path) -> None:
    assert detect_kind(data / "enron" / "delainey-d") is SourceKind.TREE
    assert detect_kind(data / "mime") is SourceKind.TREE
    assert detect_kind(tmp_path) is SourceKind.TREE  # empty


def test_single_messages(data: Path) -> None:
    assert detect_kind(data / "bad" / "good.eml") is SourceKind.EML
    # An Enron file has no extension: its RFC 822 headers make it a message.
    assert detect_kind(data / "enron" / "delainey-d" / "sent" / "126_") is SourceKind.EML
    assert detect_kind(data / "mime" / "cpython" / "msg_16.txt") is SourceKind.EML


def test_calendars_by_extension_or_content(data: Path, tmp_path: Path) -> None:
    assert detect_kind(data / "ics" / "icaljs" / "daily_recur.ics") is SourceKind.ICS
    export = tmp_path / "calendar-export"
    export.write_bytes(b"\xef\xbb\xbf" + (data / "ics" / "icaljs" / "daily_recur.ics").read_bytes())
    assert detect_kind(export) is SourceKind.ICS


@pytest.mark.parametrize(
    "name", ["bad/binary-garbage", "mime/flanker/LICENSE", "mime/cpython/LICENSE-PSF.txt"]
)
def test_files_that_are_neither_mail_nor_calendar(data: Path, name: str) -> None:
    with pytest.raises(UnknownFormat):
        detect_kind(data / name)


def test_empty_file_and_missing_path(tmp_path: Path) -> None:
    (tmp_path / "empty").write_bytes(b"")
    with pytest.raises(UnknownFormat):
        detect_kind(tmp_path / "empty")
    with pytest.raises(SourceMissing):
        detect_kind(tmp_path / "nope.mbox")


def test_a_gzip_that_is_not_gzip(tmp_path: Path) -> None:
    fake = tmp_path / "fake.gz"
    fake.write_bytes(b"From someone\n")
    with pytest.raises(UnknownFormat):
        detect_kind(fake)
    real = tmp_path / "real.mbox.gz"
    real.write_bytes(gzip.compress(b"From a@b Thu Jan  1 00:00:00 2001\nFrom: a@b\n\n"))
    assert detect_kind(real) is SourceKind.MBOX_GZ
