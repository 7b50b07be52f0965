"""`keepwarm serve` for real: a uvicorn process that answers the links a digest carries."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
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
from tests.support.served import fetch, free_port, stop, wait_until_healthy
from tests.support.settings import production_settings
from tests.support.shifted import python_command


def test_keepwarm_serve_answers_a_link_and_stops_cleanly(any_settings: Settings) -> None:
    # Given a contact and a snooze link signed the way the digest signs it
    runtime = build_runtime(any_settings)
    try:
        with unit_of_work(runtime.session_factory) as uow:
            user_id = ensure_user(uow.session).id
            jane = add_contact(uow.session, user_id, "Jane Doe", "jane@example.com")
        token = runtime.link_signer().token(user_id, LinkAction.SNOOZE_2W, jane)

        # When `keepwarm serve` runs as a person would start it
        port = free_port()
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
            wait_until_healthy(server, base, deadline_s=60)
            url = link_url(base, LinkAction.SNOOZE_2W, token)
            # Then opening the link asks, and the button's POST acts
            assert fetch(url)[0] == 200
            assert "Snooze 2 weeks: Jane Doe" in fetch(url)[1]
            status, page = fetch(url, data=b"")
            assert (status, "Snoozed 2 weeks: Jane Doe" in page) == (200, True)
        finally:
            out, err = stop(server)
        # And SIGTERM is a clean stop
        assert server.returncode == 0, err
        assert "keepwarm serve: stopped" in out

        with runtime.session_factory() as session:
            actions = list(session.scalars(select(LifecycleEvent.action)))
        assert actions == ["snooze"]
    finally:
        runtime.close()


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _serve(settings: Settings, *args: str) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update({k: v for k, v in settings_env(settings).items() if v is not None})
    server = subprocess.Popen(
        python_command("-m", "keepwarm", "serve", "--port", str(port), *args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )
    return server, f"http://127.0.0.1:{port}"


@pytest.mark.skipif(sys.platform != "linux", reason="counts the processes in /proc")
def test_serve_answers_from_several_processes_and_stops_them_all(
    pg_url: str, redis_url: tuple[str, str], tmp_path: Path
) -> None:
    settings = production_settings(tmp_path / "home", pg_url, *redis_url)
    # Given `keepwarm serve --workers 2` on PostgreSQL and Redis
    server, base = _serve(settings, "--workers", "2")
    try:
        wait_until_healthy(server, base, deadline_s=60)
        # Then two processes answer, each with its own socket on the port
        workers = _children(server.pid)
        assert len(workers) == 2
        assert all(fetch(f"{base}/healthz")[0] == 200 for _ in range(10))
    finally:
        out, err = stop(server)
    # And SIGTERM stops them all, cleanly
    assert server.returncode == 0, err
    assert "(2 processes)" in out and "keepwarm serve: stopped" in out
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)


@pytest.mark.skipif(sys.platform != "linux", reason="counts the processes in /proc")
def test_a_server_process_that_dies_stops_the_server(
    pg_url: str, redis_url: tuple[str, str], tmp_path: Path
) -> None:
    settings = production_settings(tmp_path / "home", pg_url, *redis_url)
    server, base = _serve(settings, "--workers", "2")
    try:
        wait_until_healthy(server, base, deadline_s=60)
        first, second = _children(server.pid)
        # When one process is killed
        os.kill(first, signal.SIGKILL)
        server.wait(timeout=30)
    finally:
        out, err = stop(server)
    # Then the others stop too, and the server fails for its service manager to restart it
    assert server.returncode == 1, err
    assert "a server process ended" in out
    assert not Path(f"/proc/{second}").exists()


def test_an_embedded_install_serves_from_one_process(embedded_settings: Settings) -> None:
    server, _ = _serve(embedded_settings, "--workers", "2")
    out, err = server.communicate(timeout=60)
    assert server.returncode != 0
    assert "--workers: an embedded install answers from one process" in err + out
