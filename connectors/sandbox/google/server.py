"""The stdlib HTTP server in front of `SandboxApp`: loopback only, one thread per connection."""

from __future__ import annotations

import socket
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from keepwarm.connectors.sandbox.google.wire import Request, Response, parse_target

__all__ = ["LoopbackServer"]

_MAX_BODY = 64 * 1024 * 1024


class LoopbackServer:
    """Serves `handle` on 127.0.0.1:`port` (0 picks a free port) from a daemon thread."""

    def __init__(self, handle: Callable[[Request], Response], port: int = 0) -> None:
        self._server = _Server(("127.0.0.1", port), _handler_class(handle))
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port listened on."""
        return int(self._server.server_address[1])

    def start(self) -> None:
        """Serve in a daemon thread. Raises RuntimeError when already started."""
        if self._thread is not None:
            raise RuntimeError("already started")
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"google-sandbox:{self.port}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket; connections in flight are abandoned."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out and hung up (the delay fault) is expected, not an error.
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError, socket.timeout)):
            return
        super().handle_error(request, client_address)


def _handler_class(handle: Callable[[Request], Response]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as httplib2 and requests expect
        # Buffered: headers and body leave in one segment. Two small writes would meet the
        # client's delayed ACK under Nagle's algorithm and cost 40 ms per request.
        wbufsize = 64 * 1024
        disable_nagle_algorithm = True
        server_version = "keepwarm-google-sandbox"
        sys_version = ""

        def _serve(self) -> None:
            body = self._body()
            if body is None:
                return
            request = parse_target(self.command, self.path, dict(self.headers.items()), body)
            response = handle(request)
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers:
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        def _body(self) -> bytes | None:
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                return self._chunked()
            length = int(self.headers.get("Content-Length") or 0)
            if length > _MAX_BODY:
                self.send_error(413)
                return None
            return self.rfile.read(length) if length > 0 else b""

        def _chunked(self) -> bytes:
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass  # tests read `GoogleSandbox.requests()` instead of a log on stderr

    return Handler
