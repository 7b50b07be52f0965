"""Fixtures for the digest and prompt tests: a real SMTP server and settings that use it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime

import pytest

from keepwarm.services.core.config import Settings
from keepwarm.services.runtime import Runtime, build_runtime
from tests.smtp_server import Received, smtp_server


@pytest.fixture
def smtp() -> Iterator[tuple[int, Received]]:
    with smtp_server() as server:
        yield server


def mail_settings(settings: Settings, port: int) -> Settings:
    """`settings` sending through the local test server, with links on a fixed base."""
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_security": "none",
            "public_url": "https://kw.example",
            "mail_from": "keepwarm <digest@kw.example>",
        }
    )


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


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
