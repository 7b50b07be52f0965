"""Hostile files and trees: deep folders, paths that are no mailbox, unreadable files.

Found on 2026-11-30: a 1,500-level folder tree ended the import in RecursionError ("internal
error"). The walks keep their own stack now. A path that is no mailbox or calendar is one line
naming it, exit 2, never a traceback; every valid message beside hostile files is imported.
"""

from __future__ import annotations

import os
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from keepwarm.connectors.files.maildir import read_maildir
from keepwarm.connectors.files.progress import no_progress
from keepwarm.connectors.files.tree import read_tree
from keepwarm.connectors.types import MailMessage, Unreadable
from keepwarm.services.core.config import Settings
from tests.support.cli import assert_one_line_error, run_cli, run_json, run_process
from tests.support.hostile_mail import OWNER

DEPTH = 1_500
# Deeper than Python's recursion limit (1,000) within PATH_MAX (4,096) at three bytes a level.
MAILDIR_DEPTH = 1_100
WINDOW = (datetime(2001, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC))


def message(sender: str, to: str, subject: str) -> str:
    return (
        f"From: {sender}\nTo: {to}\nSubject: {subject}\n"
        "Date: Mon, 2 Mar 2020 10:00:00 +0000\n\nbody\n"
    )


@pytest.fixture
def deep_root(tmp_path: Path) -> Iterator[Path]:
    """Where a test builds its deep tree; removed afterwards with a stack of our own
    (shutil.rmtree, which pytest's clean-up uses, recurses and fails on it)."""
    root = tmp_path / "deep"
    yield root
    pending, folders = [root] if root.exists() else [], []
    while pending:
        folder = pending.pop()
        folders.append(folder)
        for entry in folder.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                pending.append(entry)
            else:
                entry.unlink()
    for folder in reversed(folders):  # every folder after the folders inside it
        folder.rmdir()


def deep(root: Path, depth: int, leaf: str = "d") -> Path:
    """A folder `depth` levels below `root`, made one level at a time (os.makedirs recurses)."""
    folder = root
    folder.mkdir()
    for _ in range(depth):
        folder = folder / leaf
        folder.mkdir()
    return folder


def test_a_1500_level_tree_is_read_to_the_bottom(
    embedded_settings: Settings, deep_root: Path
) -> None:
    root = deep_root
    bottom = deep(root, DEPTH)
    (root / "1").write_text(message(OWNER, "bob@example.org", "top"))
    (bottom / "1").write_text(message("bob@example.org", OWNER, "bottom"))
    tracemalloc.start()
    started = time.monotonic()
    try:
        records = list(read_tree(root, window=WINDOW, progress=no_progress))
        seconds = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
    subjects = {r.subject for r in records if isinstance(r, MailMessage)}
    assert subjects == {"top", "bottom"} and not [r for r in records if isinstance(r, Unreadable)]
    assert seconds < 30 and peak < 100, (seconds, peak)
    # Through the command, as a person runs it: both imported, exit 0
    out = run_cli(embedded_settings, "import", str(root), "--me", OWNER)
    assert "RecursionError" not in out
    bob = run_json(embedded_settings, "contact", "bob@example.org")
    assert (bob["emails_sent"], bob["emails_received"]) == (1, 1)


def test_a_1500_level_maildir_is_read_to_the_bottom(deep_root: Path) -> None:
    root = deep_root
    bottom = deep(root, MAILDIR_DEPTH, leaf=".f")
    for folder in (root, bottom):
        for leaf in ("cur", "new", "tmp"):
            (folder / leaf).mkdir()
    (root / "cur" / "1:2,S").write_text(message("bob@example.org", OWNER, "top"))
    (bottom / "cur" / "1:2,S").write_text(message("bob@example.org", OWNER, "bottom"))
    records = list(read_maildir(root, progress=no_progress))
    assert {r.subject for r in records if isinstance(r, MailMessage)} == {"top", "bottom"}


def test_paths_that_are_no_mailbox_say_one_line_naming_them(
    embedded_settings: Settings, tmp_path: Path
) -> None:
    missing = tmp_path / "missing.mbox"
    garbage = tmp_path / "photo.png"
    garbage.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(256))
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for path in (missing, garbage, fifo):
        proc = run_process(embedded_settings, "import", str(path))
        assert proc.returncode == 2, (path, proc.stdout, proc.stderr)
        assert_one_line_error(proc.stderr, str(path))


def test_hostile_files_beside_good_ones_lose_nothing(
    embedded_settings: Settings, tmp_path: Path
) -> None:
    root = tmp_path / "mixed"
    root.mkdir()
    (root / "good").write_text(message("bob@example.org", OWNER, "good"))
    (root / "binary").write_bytes(b"\x7fELF" + os.urandom(4096))
    (root / "empty").write_bytes(b"")
    (root / "huge-header").write_text("Subject: " + "x" * 2_000_000 + "\n\nbody\n")
    (root / "name\nwith-newline").write_text(message("carol@example.org", OWNER, "odd name"))
    unreadable = root / "unreadable"
    unreadable.write_text(message("dan@example.org", OWNER, "locked"))
    unreadable.chmod(0)
    started = time.monotonic()
    out = run_cli(embedded_settings, "import", str(root), "--me", OWNER)
    assert time.monotonic() - started < 60
    for person in ("bob@example.org", "carol@example.org"):
        assert run_json(embedded_settings, "contact", person)["emails_received"] == 1
    assert "unreadable" in out
