"""The request and response values every sandbox handler works on, free of any HTTP server.

Handlers take a `Request` and return a `Response`, so a batch can run its inner requests through
the same code as the server runs outer ones.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = ["JSON_TYPE", "Caller", "Request", "Response", "parse_target"]

JSON_TYPE = "application/json; charset=UTF-8"


@dataclass(frozen=True, slots=True)
class Caller:
    """Who an API request acts for: the user of its access token and the scopes granted."""

    user: str
    scopes: frozenset[str]


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request: the path is percent-decoded, header names are lower case."""

    method: str
    path: str
    query: Mapping[str, Sequence[str]] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    def param(self, name: str) -> str | None:
        """The first value of query parameter `name`, None when absent."""
        values = self.query.get(name)
        return values[0] if values else None

    def params(self, name: str) -> list[str]:
        """Every value of a repeated query parameter, in request order."""
        return list(self.query.get(name, ()))

    def header(self, name: str) -> str | None:
        """A request header by case-insensitive name."""
        return self.headers.get(name.lower())

    def form(self) -> dict[str, str]:
        """The url-encoded form body merged over the query string (first value of each)."""
        merged = {name: values[0] for name, values in self.query.items() if values}
        text = self.body.decode("utf-8", "replace")
        for name, values in parse_qs(text, keep_blank_values=True).items():
            merged[name] = values[0]
        return merged


@dataclass(frozen=True, slots=True)
class Response:
    """One HTTP response; `headers` excludes Content-Type and Content-Length."""

    status: int
    body: bytes = b""
    content_type: str = JSON_TYPE
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def json(
        cls, status: int, payload: object, headers: Sequence[tuple[str, str]] = ()
    ) -> Response:
        """A JSON response, indented like Google's."""
        body = json.dumps(payload, indent=2, ensure_ascii=False).encode() + b"\n"
        return cls(status, body, JSON_TYPE, tuple(headers))

    def header(self, name: str) -> str | None:
        """A response header by case-insensitive name (Content-Type included)."""
        if name.lower() == "content-type":
            return self.content_type
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


def parse_target(method: str, target: str, headers: Mapping[str, str], body: bytes) -> Request:
    """A `Request` from a request line's target (`/path?query`), raw headers and body."""
    parts = urlsplit(target)
    query = parse_qs(parts.query, keep_blank_values=True)
    lowered = {name.lower(): value for name, value in headers.items()}
    return Request(method.upper(), unquote(parts.path), query, lowered, body)
