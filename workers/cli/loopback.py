"""The OAuth loopback redirect: a one-request HTTP server on 127.0.0.1 that receives the code,
in the query of a redirect (Google) or POSTed by the provider's page (Microsoft's
response_mode=form_post, which keeps the code out of URLs)."""

from __future__ import annotations

import html
import http.client
import re
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

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
                self._answer(parse_qs(urlsplit(self.path).query))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
                self._answer(parse_qs(body))

            def _answer(self, fields: dict[str, list[str]]) -> None:
                receiver.params = {k: v[0] for k, v in fields.items()}
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


_FORM = re.compile(r'<form[^>]*method="POST"[^>]*action="([^"]+)"', re.IGNORECASE)
_FIELD = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', re.IGNORECASE)


def follow_consent(url: str) -> None:
    """Do what a browser does with a consent URL that approves at once (the sandbox's):
    follow its redirects, or submit the form a form_post page carries."""
    location, method, body = url, "GET", ""
    for _ in range(4):
        parts = urlsplit(location)
        connection = http.client.HTTPConnection(parts.netloc, timeout=10)
        try:
            target = f"{parts.path}?{parts.query}" if parts.query else parts.path
            headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
            connection.request(method, target or "/", body=body or None, headers=headers)
            response = connection.getresponse()
            page = response.read().decode("utf-8", "replace")
            location = response.getheader("Location") or ""
        finally:
            connection.close()
        if response.status in (301, 302, 303, 307) and location:
            method, body = "GET", ""
            continue
        form = _FORM.search(page) if response.status == 200 and method == "GET" else None
        if form is None:
            return
        fields = {html.unescape(k): html.unescape(v) for k, v in _FIELD.findall(page)}
        location, method, body = html.unescape(form.group(1)), "POST", urlencode(fields)
