"""Deterministic folder walks for the tree and maildir readers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from keepwarm.connectors.files.folders import natural_key
from keepwarm.connectors.types import Unreadable

__all__ = ["iter_files", "list_folder"]


def list_folder(
    directory: Path, *, skip_hidden: bool
) -> tuple[list[Path], list[Path]] | Unreadable:
    """The regular files and the subfolders of `directory`, each in natural order.

    Symbolic links to files count as files; links to folders are not followed (no loops).
    A folder that cannot be listed gives Unreadable. Never raises.
    """
    files: list[Path] = []
    folders: list[Path] = []
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                if skip_hidden and entry.name.startswith("."):
                    continue
                if entry.is_dir(follow_symlinks=False):
                    folders.append(Path(entry.path))
                elif entry.is_file():
                    files.append(Path(entry.path))
    except OSError as exc:
        return Unreadable(str(directory), f"cannot list folder: {exc.strerror or exc}")
    files.sort(key=lambda path: natural_key(path.name))
    folders.sort(key=lambda path: natural_key(path.name))
    return files, folders


def iter_files(root: Path) -> Iterator[tuple[Path, list[Path]] | Unreadable]:
    """Every non-hidden folder under `root` (root first, depth first) with its files.

    Walked with a stack of its own, not by recursion: a tree 1,500 folders deep (anyone can
    make one, and an archive can hold one) ended in RecursionError.
    """
    pending = [root]
    while pending:
        folder = pending.pop()
        listing = list_folder(folder, skip_hidden=True)
        if isinstance(listing, Unreadable):
            yield listing
            continue
        files, folders = listing
        yield folder, files
        pending.extend(reversed(folders))  # the first subfolder is walked next
