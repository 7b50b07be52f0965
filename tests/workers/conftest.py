"""Fixtures shared by the worker tests."""

from __future__ import annotations

import pytest

from tests.support.sync import CleanRun, clean_run


@pytest.fixture(scope="session")
def clean_google_run(tmp_path_factory: pytest.TempPathFactory) -> CleanRun:
    """One fault-free sync of the sandbox's ENRON mailbox, for every fault test to equal."""
    return clean_run(tmp_path_factory.mktemp("clean-google"))
