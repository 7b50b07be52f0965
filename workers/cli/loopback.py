"""The OAuth loopback redirect: a one-request HTTP server on 127.0.0.1 that receives the code."""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

__all__ = ["LoopbackReceiver", "follow_consent"]

_PAGE = (
    b"<!doctype html><title>keepwarm</title><p>keepwarm is connected. You can close this tab.</p>"
)


class LoopbackReceiver:
    """Listens on a free loopback port until the provider redirects the browser back."""

    def __init__(self) -> None:
        self.params: dict[str, str] = {}
        self._done = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = parse_qs(urlsplit(self.path).query)
                receiver.params = {k: v[0] for k, v in query.items()}
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(_PAGE)))
                self.end_headers()
                self.wfile.write(_PAGE)
                receiver._done.set()

            def log_message(self, *args: object) -> None:  # quiet: a person is watching
                return

        self._server = HTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def wait(self, timeout: float) -> dict[str, str] | None:
        """The redirect's query parameters, or None if none came in time."""
        return self.params if self._done.wait(timeout) else None

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def follow_consent(url: str) -> None:
    """Do what a browser does with a consent URL that approves at once (the sandbox's)."""
    location = url
    for _ in range(3):
        parts = urlsplit(location)
        connection = http.client.HTTPConnection(parts.netloc, timeout=10)
        try:
            connection.request("GET", f"{parts.path}?{parts.query}" if parts.query else parts.path)
            response = connection.getresponse()
            response.read()
            location = response.getheader("Location") or ""
        finally:
            connection.close()
        if not location or response.status not in (301, 302, 303, 307):
            return
