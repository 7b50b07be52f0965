"""The slow tier for the learned order: the shared mailboxes through the real paths."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from keepwarm.services.core.config import Settings
from keepwarm.services.reconnect.learning.prior import PRIOR_FILE
from tests.support.cli import run_cli, run_json
from tests.support.paths import REPO

pytestmark = pytest.mark.slow


def _ranker_prior():  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(REPO / "bench"))
    try:
        return importlib.import_module("ranker_prior")
    finally:
        sys.path.remove(str(REPO / "bench"))


def test_the_shipped_prior_is_what_the_shared_mailboxes_give(
    shared_data: Path, tmp_path: Path
) -> None:
    # Refitting from every shared mailbox gives the packaged prior.json, byte for byte
    out = tmp_path / "prior.json"
    assert _ranker_prior().main(["--homes", str(tmp_path / "homes"), "--out", str(out)]) == 0
    shipped = REPO / "services" / "reconnect" / "learning" / PRIOR_FILE
    assert out.read_text() == shipped.read_text()


def test_delegated_sending_leaves_the_owner_the_owner(shared_data: Path, tmp_path: Path) -> None:
    # skilling-j: two assistants wrote most of the sent mail on his behalf
    settings = Settings(home=tmp_path)
    out = run_cli(settings, "import", str(shared_data / "enron-more" / "skilling-j"))
    [owner] = [line for line in out.splitlines() if line.startswith("you are:")]
    assert "jeff.skilling@enron.com" in owner
    assert "sherri.sera@enron.com" not in owner
    assert "joannie.williamson@enron.com" not in owner


def test_a_real_queue_is_personal_explained_and_the_same_every_time(
    shared_data: Path, tmp_path: Path
) -> None:
    settings = Settings(home=tmp_path)
    run_cli(settings, "import", str(shared_data / "enron" / "delainey-d"))
    args = ("suggestions", "--as-of", "2000-12-01", "--limit", "10", "--json")
    queue = run_json(settings, *args)
    assert len(queue) == 10
    for item in queue:
        assert item["emails_sent"] + item["meetings"] > 0  # written to or met
        assert 0.0 <= item["score"] <= 1.0
        assert item["why"]
    assert [q["score"] for q in queue] == sorted((q["score"] for q in queue), reverse=True)
    assert run_cli(settings, *args) == run_cli(settings, *args)
