"""Byte-count progress reporting shared by the readers.

Every reader reports each file's bytes exactly once, as it finishes with them, so the sum of all
reports equals `total_bytes` of the same paths (as long as the files do not change meanwhile).
"""

from __future__ import annotations

import os
from collections.abc import Callable

__all__ = ["Progress", "file_size", "no_progress"]

Progress = Callable[[int], None]


def no_progress(_consumed: int) -> None:
    """The progress callback used when the caller gave none."""


def file_size(path: str | os.PathLike[str]) -> int:
    """Size in bytes, 0 when the file cannot be stat'ed (its read will report the error)."""
    try:
        return os.stat(path).st_size
    except OSError:
        return 0
