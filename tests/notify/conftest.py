"""Fixtures for the digest and prompt tests: a real SMTP server and settings that use it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from keepwarm.services.core.config import Settings
from keepwarm.services.runtime import Runtime, build_runtime
from tests.support.builders import Clock
from tests.support.smtp import Received, mail_settings, smtp_server


@pytest.fixture
def smtp() -> Iterator[tuple[int, Received]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def mail_runtime(any_settings: Settings, smtp: tuple[int, Received]) -> Iterator[Runtime]:
    """A runtime on SQLite or PostgreSQL that mails the test SMTP server."""
    runtime = build_runtime(mail_settings(any_settings, smtp[0]))
    try:
        yield runtime
    finally:
        runtime.close()


def with_clock(runtime: Runtime, clock: Clock) -> Runtime:
    return replace(runtime, clock=clock)
