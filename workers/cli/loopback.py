"""The OAuth loopback redirect: an HTTP server on 127.0.0.1 that waits for the one request that
answers this consent, in the query of a redirect (Google) or POSTed by the provider's page
(Microsoft's response_mode=form_post, which keeps the code out of URLs).

Anything else that reaches the port (a browser's /favicon.ico, a page of another site probing
loopback ports, an answer with another consent's `state`) gets a 404 or a 400 and the wait
goes on: only the redirect path carrying this consent's `state` ends it."""

from __future__ import annotations

import hmac
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


_NOT_HERE = b"<!doctype html><title>keepwarm</title><p>Not found.</p>"
_NOT_THIS = (
    b"<!doctype html><title>keepwarm</title>"
    b"<p>This is not the answer keepwarm is waiting for; it was ignored.</p>"
)
# A form_post answer is a code and a few short fields; nothing larger is read.
_MAX_BODY = 64 * 1024


class LoopbackReceiver:
    """Listens on a free loopback port until the provider redirects the browser back."""

    def __init__(self) -> None:
        self.params: dict[str, str] = {}
        self.ignored = 0  # requests that were not this consent's answer
        self._state: str | None = None
        self._done = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            # One request at a time: a connection that never sends one must not hold the port
            # while the browser's real answer waits behind it.
            timeout = 10

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                self._answer(parts.path, parse_qs(parts.query))

            def do_POST(self) -> None:
                length = min(int(self.headers.get("Content-Length") or 0), _MAX_BODY)
                body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
                self._answer(urlsplit(self.path).path, parse_qs(body))

            def _answer(self, path: str, fields: dict[str, list[str]]) -> None:
                params = {k: v[0] for k, v in fields.items()}
                # Recorded before replying: whoever sent it may look as soon as it is answered.
                if path != "/":
                    receiver.ignored += 1
                    self._reply(404, _NOT_HERE)
                elif not receiver._expected(params.get("state", "")):
                    receiver.ignored += 1
                    self._reply(400, _NOT_THIS)
                elif receiver._done.is_set():
                    receiver.ignored += 1
                    self._reply(200, _PAGE)  # a reload of the answer: it was taken already
                else:
                    receiver.params = params
                    receiver._done.set()
                    self._reply(200, _PAGE)

            def _reply(self, status: int, page: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args: object) -> None:  # quiet: a person is watching
                return

        self._server = HTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def expect(self, state: str) -> None:
        """Wait for the answer carrying `state`, the consent's own (set before it is opened)."""
        self._state = state

    def _expected(self, state: str) -> bool:
        return self._state is not None and hmac.compare_digest(state, self._state)

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
