"""The raw header lines of a seed message, found again from the `source` the importer gave it.

`read_paths` yields parsed records only; Gmail's `format=metadata` must return header values as
written. A record's source is its file (trees, maildirs, .eml) or `mbox-path#N`; for mboxes we
split the file once more, with the importer's rule, keeping only header blocks. Bodies are read
past, never kept.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

from keepwarm.connectors.files.detect import SourceKind, file_kind
from keepwarm.connectors.files.headers import HEADER_LIMIT, read_header_block

__all__ = ["RawHeaders", "header_lines"]

_LINE_LIMIT = 64 * 1024
_BLANK = (b"\n", b"\r\n")


class RawHeaders:
    """Looks up (header block, size in bytes) by record source; caches each mbox's split."""

    def __init__(self) -> None:
        self._mboxes: dict[str, list[tuple[bytes, int]]] = {}

    def lookup(self, source: str) -> tuple[bytes, int] | None:
        """The header block and message size for `source`, None when it cannot be read."""
        if os.path.isfile(source) and file_kind(Path(source), sniff=False) is SourceKind.EML:
            return _message_file(Path(source))
        path, _, number = source.rpartition("#")
        if not path or not number.isdigit():
            return None
        if path not in self._mboxes:
            self._mboxes[path] = _mbox_blocks(Path(path))
        blocks = self._mboxes[path]
        index = int(number) - 1
        return blocks[index] if 0 <= index < len(blocks) else None


def header_lines(block: bytes) -> tuple[tuple[str, str], ...]:
    """(name, value) of every header line in message order: unfolded, value trimmed, bytes read
    as UTF-8 or else Latin-1. An mbox "From " envelope line is not a header."""
    lines = block.replace(b"\r\n", b"\n").split(b"\n")
    if lines and lines[0].startswith((b"From ", b">From ")):
        del lines[0]
    fields: list[list[bytes]] = []
    for line in lines:
        if line[:1] in (b" ", b"\t"):
            if fields:
                fields[-1].append(line)
            continue
        if b":" not in line:
            break  # the body began without a blank line
        fields.append([line])
    result = []
    for parts in fields:
        name, _, first = parts[0].partition(b":")
        raw = b" ".join(part.strip() for part in [first, *parts[1:]])
        result.append((_text(name.strip()), _text(raw.strip())))
    return tuple(result)


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _message_file(path: Path) -> tuple[bytes, int] | None:
    try:
        with open(path, "rb", buffering=0) as stream:
            size = os.fstat(stream.fileno()).st_size
            block, _ = read_header_block(stream)
    except OSError:
        return None
    return block, size


def _mbox_blocks(path: Path) -> list[tuple[bytes, int]]:
    """Every message's header block and size, numbered as `connectors.files.mbox` numbers them:
    a "From " line after an empty line (or first) opens a message; text before it is one too."""
    blocks: list[bytes] = []
    sizes: list[int] = []
    header: list[bytes] | None = None  # the open message's header lines; None in a body
    header_size = 0
    blank_before = True
    try:
        with open(path, "rb") as raw:
            stream = gzip.GzipFile(fileobj=raw) if path.name.endswith(".gz") else raw
            while line := stream.readline(_LINE_LIMIT):
                is_blank = line in _BLANK
                if blank_before and line.startswith(b"From "):
                    if header is not None:
                        blocks[-1] = b"".join(header)
                    blocks.append(b"")
                    sizes.append(len(line))
                    header, header_size, blank_before = [], 0, False
                    continue
                if not blocks and not is_blank:  # content before any separator
                    blocks.append(b"")
                    sizes.append(0)
                    header, header_size = [], 0
                if sizes:
                    sizes[-1] += len(line)
                if header is not None:
                    header_size += len(line)
                    if is_blank or header_size > HEADER_LIMIT:
                        blocks[-1] = b"".join(header)
                        header = None
                    else:
                        header.append(line)
                blank_before = is_blank
    except (OSError, EOFError, zlib.error):
        pass  # the importer reports the damage; what was split so far stays usable
    if header is not None:
        blocks[-1] = b"".join(header)
    return list(zip(blocks, sizes, strict=True))
