"""`keepwarm serve` for real: a uvicorn process that answers the links a digest carries."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

from sqlalchemy import select

from keepwarm.services.accounts.users import ensure_user
from keepwarm.services.core.config import Settings
from keepwarm.services.core.jobs import unit_of_work
from keepwarm.services.models import LifecycleEvent
from keepwarm.services.notify.links import LinkAction, link_url
from keepwarm.services.runtime import build_runtime
from tests.support.cli import settings_env
from tests.support.links import add_contact
from tests.support.paths import REPO
from tests.support.shifted import python_command

# Straight to 127.0.0.1, whatever proxy the environment names.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _free_port() -> int:
    # The kernel picks a free port; it is released for the server to take a moment later.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _fetch(url: str, data: bytes | None = None) -> tuple[int, str]:
    with _OPENER.open(urllib.request.Request(url, data=data), timeout=10) as response:
        return response.status, response.read().decode()


def _wait_until_healthy(server: subprocess.Popen[str], base: str, deadline_s: float) -> None:
    """Poll /healthz until it answers ok; fail at once if the process exits."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            status, body = _fetch(f"{base}/healthz")
            if status == 200 and json.loads(body) == {"status": "ok"}:
                return
        except (urllib.error.URLError, ConnectionError):
            pass  # not listening yet
        try:
            # The pause between polls is a wait on the process: it ends early if it dies.
            server.wait(timeout=0.1)
        except subprocess.TimeoutExpired:
            continue
        out, err = server.communicate()
        raise AssertionError(f"keepwarm serve exited {server.returncode}: {out}{err}")
    raise AssertionError(f"keepwarm serve did not answer /healthz within {deadline_s} s")


def _stop(server: subprocess.Popen[str]) -> tuple[str, str]:
    """SIGTERM, as a service manager stops it; killed only if it hangs (which fails the test)."""
    server.send_signal(signal.SIGTERM)
    try:
        return server.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        out, err = server.communicate()
        return out, err + "\n(did not stop within 30 s of SIGTERM; killed)"


def test_keepwarm_serve_answers_a_link_and_stops_cleanly(any_settings: Settings) -> None:
    # Given a contact and a snooze link signed the way the digest signs it
    runtime = build_runtime(any_settings)
    try:
        with unit_of_work(runtime.session_factory) as uow:
            user_id = ensure_user(uow.session).id
            jane = add_contact(uow.session, user_id, "Jane Doe", "jane@example.com")
        token = runtime.link_signer().token(user_id, LinkAction.SNOOZE_2W, jane)

        # When `keepwarm serve` runs as a person would start it
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
        env.update({k: v for k, v in settings_env(any_settings).items() if v is not None})
        server = subprocess.Popen(
            python_command("-m", "keepwarm", "serve", "--port", str(port)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=REPO,
        )
        try:
            _wait_until_healthy(server, base, deadline_s=60)
            url = link_url(base, LinkAction.SNOOZE_2W, token)
            # Then opening the link asks, and the button's POST acts
            assert _fetch(url)[0] == 200
            assert "Snooze 2 weeks: Jane Doe" in _fetch(url)[1]
            status, page = _fetch(url, data=b"")
            assert (status, "Snoozed 2 weeks: Jane Doe" in page) == (200, True)
        finally:
            out, err = _stop(server)
        # And SIGTERM is a clean stop
        assert server.returncode == 0, err
        assert "keepwarm serve: stopped" in out

        with runtime.session_factory() as session:
            actions = list(session.scalars(select(LifecycleEvent.action)))
        assert actions == ["snooze"]
    finally:
        runtime.close()
