"""Bad paths fail fast, before anything is read, with one-line messages naming the path."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime
from pathlib import Path

import pytest

from keepwarm.connectors.errors import ConnectorError, SourceMissing, UnknownFormat
from keepwarm.connectors.files import read_paths, total_bytes

WINDOW = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC))


def test_missing_path_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "x" / "y"
    with pytest.raises(SourceMissing) as caught:
        read_paths([missing], window=WINDOW)
    assert str(caught.value) == f"no such file or folder: {missing}"
    assert caught.value.path == missing
    assert isinstance(caught.value, ConnectorError)


def test_unknown_format_names_the_path(data: Path) -> None:
    licence = data / "mime" / "flanker" / "LICENSE"
    with pytest.raises(UnknownFormat) as caught:
        read_paths([licence], window=WINDOW)
    assert str(caught.value) == (
        "not a mailbox or calendar (mbox, maildir, folder of .eml/RFC 822 files, .eml, .ics): "
        f"{licence}"
    )
    assert "\n" not in str(caught.value)


def test_every_path_is_checked_before_anything_is_read(data: Path, tmp_path: Path) -> None:
    consumed: list[int] = []
    good = data / "apparmor-slice.mbox"
    # The bad path comes last and the call itself raises: nothing was read or yielded.
    with pytest.raises(SourceMissing):
        read_paths([good, tmp_path / "gone.mbox"], window=WINDOW, progress=consumed.append)
    assert consumed == []
    with pytest.raises(UnknownFormat):
        total_bytes([good, data / "bad" / "binary-garbage"])


def test_errors_survive_pickling(tmp_path: Path) -> None:
    # Workers hand exceptions across processes.
    for error in (SourceMissing(tmp_path), UnknownFormat(tmp_path)):
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error)
        assert copy.path == tmp_path
        assert str(copy) == str(error)
