"""The CLI's OAuth loopback and the consent's `state`: a browser's /favicon.ico, a probe from
another page or an answer with another consent's state neither ends the wait nor connects
anything; only the redirect carrying this consent's state does."""

from __future__ import annotations

import http.client
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from keepwarm.connectors.errors import ConsentRefused
from keepwarm.connectors.google.auth import GoogleClient, GoogleEndpoints
from keepwarm.connectors.sandbox.google import GoogleSandbox
from keepwarm.services.core.config import Settings
from keepwarm.workers.cli.loopback import LoopbackReceiver
from tests.support.cli import run_json
from tests.support.paths import ENRON
from tests.support.settings import keyed
from tests.support.sync import connect


@pytest.fixture
def receiver() -> Iterator[LoopbackReceiver]:
    waiting = LoopbackReceiver()
    waiting.expect("the-state")
    try:
        yield waiting
    finally:
        waiting.close()


def _request(
    receiver: LoopbackReceiver, method: str, target: str, body: str = ""
) -> tuple[int, str]:
    connection = http.client.HTTPConnection(urlsplit(receiver.redirect_uri).netloc, timeout=10)
    try:
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
        connection.request(method, target, body=body or None, headers=headers)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def test_requests_that_are_not_the_answer_are_ignored_and_the_wait_goes_on(
    receiver: LoopbackReceiver,
) -> None:
    started = time.monotonic()
    assert _request(receiver, "GET", "/favicon.ico")[0] == 404
    assert _request(receiver, "GET", "/?" + urlencode({"state": "other", "code": "x"}))[0] == 400
    assert _request(receiver, "GET", "/?code=x")[0] == 400  # no state at all
    assert _request(receiver, "POST", "/", urlencode({"state": "forged", "code": "y"}))[0] == 400
    assert receiver.wait(timeout=0) is None  # still waiting
    assert receiver.ignored == 4
    # The real answer ends the wait, with its parameters
    status, page = _request(receiver, "GET", "/?" + urlencode({"state": "the-state", "code": "c"}))
    assert status == 200 and "connected" in page
    assert receiver.wait(timeout=5) == {"state": "the-state", "code": "c"}
    # A second answer (a reload, a replay) changes nothing
    _request(receiver, "GET", "/?" + urlencode({"state": "the-state", "code": "replayed"}))
    assert receiver.params["code"] == "c"
    assert time.monotonic() - started < 30


def test_a_post_answer_with_the_right_state_is_taken(receiver: LoopbackReceiver) -> None:
    form = urlencode({"state": "the-state", "code": "posted"})
    assert _request(receiver, "POST", "/", form)[0] == 200
    assert receiver.wait(timeout=5) == {"state": "the-state", "code": "posted"}


def test_a_foreign_state_is_refused_by_the_google_consent() -> None:
    client = GoogleClient("id", "secret", GoogleEndpoints.for_base("http://127.0.0.1:9"))
    with pytest.raises(ConsentRefused, match="state"):
        client.finish("http://127.0.0.1:1/", "mine", "verifier", {"state": "theirs", "code": "x"})
    with pytest.raises(ConsentRefused, match="state"):
        client.finish("http://127.0.0.1:1/", "mine", "verifier", {"code": "x"})


def test_connect_still_completes_through_the_loopback(tmp_path: Path) -> None:
    settings = keyed(Settings(home=tmp_path / "home", database_url=None, redis_url=None))
    with GoogleSandbox([ENRON]) as box:
        connect(settings, box, "--no-sync")
    [account] = run_json(settings, "accounts")
    assert account["status"] == "active"
