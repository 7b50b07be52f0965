"""A real SMTP server for tests (aiosmtpd) that keeps what it received, parsed."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from keepwarm.services.core.config import Settings


@dataclass
class Received:
    """What the server accepted, and faults to inject into the next messages."""

    messages: list[EmailMessage] = field(default_factory=list)
    # Replies to give instead of accepting, in order ("451 try later", "550 no such user").
    refuse_next: list[str] = field(default_factory=list)
    # When set, the next DATA waits for it, then refuses (a worker can be killed mid-send).
    hold: threading.Event | None = None
    holding: threading.Event = field(default_factory=threading.Event)
    # When each accepted message arrived (aware UTC), in the order of `messages`.
    arrived: list[datetime] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if address in str(m["To"])]


class _Handler:
    def __init__(self, received: Received) -> None:
        self.received = received

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        received = self.received
        hold, received.hold = received.hold, None
        if hold is not None:
            received.holding.set()
            while not hold.is_set():
                await asyncio.sleep(0.01)  # inside the server's loop: wait without blocking it
            return "421 closing connection"
        with received.lock:
            if received.refuse_next:
                return received.refuse_next.pop(0)
            message = message_from_bytes(envelope.content, policy=policy.default)
            assert isinstance(message, EmailMessage)
            received.messages.append(message)
            received.arrived.append(datetime.now(UTC))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_server() -> Iterator[tuple[int, Received]]:
    """Serve SMTP on a free local port for the duration of the block."""
    received = Received()
    port = free_port()
    controller = Controller(_Handler(received), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, received
    finally:
        controller.stop()


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
