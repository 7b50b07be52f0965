"""Streaming importers for mail and calendar files: mbox (plain or gzip), maildir, folder trees
of RFC 822 files (Enron/CMU, MH, .eml exports), single .eml and .ics files.

Only headers are read. Modules, one idea each:

- `reader`   `read_paths`/`total_bytes`: validate every path, then stream records
- `detect`   `detect_kind`: which format a path is
- `headers`  the header-block parser all mail formats share
- `mbox`, `maildir`, `tree`, `eml`, `ics`: one reader per format
- `folders`, `walk`, `progress`: folder names and the sent-folder rule, sorted walks, progress
"""

from keepwarm.connectors.files.detect import SourceKind, detect_kind
from keepwarm.connectors.files.reader import read_paths, total_bytes

__all__ = ["SourceKind", "detect_kind", "read_paths", "total_bytes"]
