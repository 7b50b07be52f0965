"""Fixtures of the connector tests."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def data() -> Path:
    """The folder of small real data slices (tests/data, described in its README)."""
    return DATA
