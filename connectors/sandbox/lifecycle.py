"""`LoopbackSandbox`: how every provider sandbox starts, stops and serves on loopback.

The Google and Microsoft sandboxes differ in what they serve, not in how: both listen on
127.0.0.1 from a daemon thread, wake requests sleeping in a delay fault when they stop, and are
context managers. This base class is that part; a sandbox supplies its app's request handler.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from types import TracebackType
from typing import Self

from keepwarm.connectors.sandbox.google.server import LoopbackServer
from keepwarm.connectors.sandbox.google.wire import Request, Response

__all__ = ["LoopbackSandbox", "serve_until_interrupted"]


class LoopbackSandbox(ABC):
    """Start, stop, `with` and `url` of a sandbox served on 127.0.0.1:`port` (0: a free port).

    A subclass calls `__init__` before it builds its app, so that the app's delay faults can
    sleep on `_stopping.wait` (stop() wakes them), and implements `_handler`.
    """

    def __init__(self, port: int) -> None:
        self._stopping = threading.Event()
        self._port = port
        self._server: LoopbackServer | None = None

    @abstractmethod
    def _handler(self) -> Callable[[Request], Response]:
        """The function that answers each HTTP request."""

    def start(self) -> Self:
        """Listen on 127.0.0.1 and serve from a daemon thread. Raises OSError when the port is
        taken, RuntimeError when already started."""
        if self._server is not None:
            raise RuntimeError("already started")
        self._stopping.clear()
        self._server = LoopbackServer(self._handler(), self._port)
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving; requests sleeping in a delay fault are woken and abandoned."""
        self._stopping.set()
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """`http://127.0.0.1:PORT`, no trailing slash. Raises RuntimeError before start()."""
        if self._server is None:
            raise RuntimeError("the sandbox is not started")
        return f"http://127.0.0.1:{self._server.port}"


def serve_until_interrupted(sandbox: LoopbackSandbox, banner: Callable[[], str]) -> None:
    """Start `sandbox`, print `banner()` (how to reach it, lines ending in a newline), say
    "Ctrl-C to stop." and serve until interrupted; then stop it and say "stopped". Raises
    OSError when the port is taken."""
    with sandbox:
        # The whole announcement is inside the try: whoever reads "Ctrl-C to stop." may press
        # it at once, before print() has even returned.
        try:
            print(banner(), end="")
            print("Ctrl-C to stop.", flush=True)
            threading.Event().wait()
        except KeyboardInterrupt:
            print("stopped")
