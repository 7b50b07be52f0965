"""Files only their owner may read: KEEPWARM_HOME, the SQLite database, key files, previews.

What lives there opens the user's data (the database, the token key) or acts for them (signed
links in a digest preview), so nobody else on the machine may read it, whatever the umask.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

__all__ = ["private_dir", "private_file", "write_private"]


def _tighten(path: Path, mode: int) -> None:
    # Only what this user owns: a path someone else owns is theirs to decide about.
    info = path.stat()
    if info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) & 0o077:
        path.chmod(mode)


def private_dir(path: Path) -> Path:
    """`path` as a directory of mode 0700: made so, or tightened when it was left open
    (an install made before keepwarm kept its home private)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    _tighten(path, 0o700)
    return path


def private_file(path: Path) -> Path:
    """`path` as a file of mode 0600: created empty so, or tightened when it exists.

    SQLite gives its -wal and -shm files the mode of the database file, so creating the
    database this way keeps those private too.
    """
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        _tighten(path, 0o600)
    return path


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` as a file of mode 0600, whole (renamed into place: a reader
    never sees half of it, and an existing file's looser mode does not survive).

    Raises OSError as the file system does.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
