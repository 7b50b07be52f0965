"""Fixtures of the Google sandbox tests: a seeded sandbox and clients built from the real
google-auth, google-auth-oauthlib and google-api-python-client libraries. The hand-moved clock
and `make_sandbox` are in tests/connectors/conftest.py, shared with the connector's tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from keepwarm.connectors.sandbox.google import GoogleSandbox
from tests.support.google import authorize, gmail_service


@pytest.fixture
def sandbox(make_sandbox: Callable[..., GoogleSandbox]) -> GoogleSandbox:
    """A running sandbox on the default seeds."""
    return make_sandbox()


@pytest.fixture
def creds(sandbox: GoogleSandbox) -> Any:
    """google.oauth2 Credentials from a full PKCE consent against `sandbox`."""
    return authorize(sandbox)


@pytest.fixture
def gmail(sandbox: GoogleSandbox, creds: Any) -> Iterator[Any]:
    """A Gmail v1 service from the bundled discovery document, pointed at `sandbox`."""
    service = gmail_service(sandbox, creds)
    yield service
    service.close()
