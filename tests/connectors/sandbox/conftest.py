"""Fixtures of the Google sandbox tests: a seeded sandbox and clients built from the real
google-auth, google-auth-oauthlib and google-api-python-client libraries. The hand-moved clock
and `make_sandbox` are in tests/connectors/conftest.py, shared with the connector's tests."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from keepwarm.connectors.sandbox.google import GoogleSandbox
from tests.connectors.sandbox.clients import authorize, gmail_service

DATA = Path(__file__).resolve().parents[2] / "data"
ENRON = DATA / "enron" / "delainey-d"
TAKEOUT = DATA / "takeout" / "All mail Including Spam and Trash.mbox"
RECUR = DATA / "ics" / "icaljs" / "recur_instances.ics"
DAILY = DATA / "ics" / "icaljs" / "daily_recur.ics"
OWNER = "david.delainey@enron.com"


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


def discovery(name: str) -> dict[str, Any]:
    """The shared copy of a discovery document (the same bytes the client library bundles)."""
    path = DATA.parents[2] / "shared" / "data" / "api" / "google-discovery" / f"{name}.json"
    if not path.is_file():  # fall back to the copy inside googleapiclient
        from googleapiclient.discovery_cache import get_static_doc

        text = get_static_doc(*name.split("."))
        assert text is not None
        return dict(json.loads(text))
    return dict(json.loads(path.read_text()))
