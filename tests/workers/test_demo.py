"""`keepwarm demo` on the bundled sample, as the Quick start runs it."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path

from keepwarm.services.core.config import Settings
from tests.support.cli import run_cli, run_json, settings_env
from tests.support.paths import REPO
from tests.support.served import free_port, stop, wait_until_healthy
from tests.support.shifted import python_command


def test_demo_imports_the_sample_and_shows_a_queue(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    out = run_cli(settings, "demo")
    assert "synced in" in out
    assert "Reconnect queue as of 2001-02-28" in out
    assert "; last: " in out  # each suggestion comes with its why-line
    assert "Where next" in out
    # The demo's data is left where it says, and answers the commands it suggests
    demo = Settings(home=tmp_path / "home" / "demo")
    [account] = run_json(demo, "accounts")  # synced through the sandbox, every message once
    # All 997 accounted for: three carry a Date of 1979 (a broken client's "no date"), which
    # is what the sandbox's internalDate says too, so they were received before the window;
    # one is From Delainey but filed only as "Archived", not as sent: incoming, as far as a
    # provider can tell, so it is not taken for his (anyone can write his From).
    assert (account["email"], account["messages"]) == ("david.delainey@enron.com", 993)
    assert account["last_run"]["status"] == "ok"
    assert account["last_run"]["seen"] == 997
    assert account["last_run"]["filtered"] == {
        "from_owner_not_sent": 1,
        "received before the sync window": 3,
    }
    queue = json.loads(run_cli(demo, "suggestions", "--as-of", "2001-02-28", "--json"))
    assert len(queue) >= 10
    assert all(item["last_interaction_at"] < "2001-03-01" for item in queue)


def test_demo_from_files_starts_afresh_each_time(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    first = run_cli(settings, "demo", "--from-files")
    again = run_cli(settings, "demo", "--from-files")
    assert re.search(r"imported\s+997\b", again)  # not "duplicates": the old data is gone
    assert "you are: david.delainey@enron.com, w..delainey@enron.com" in again
    assert first.count("; last: ") == again.count("; last: ")


def test_the_dashboard_opens_on_the_demo_data_as_the_demo_says(tmp_path: Path) -> None:
    # Given the demo run, and the command it ends with
    settings = Settings(home=tmp_path / "home")
    out = run_cli(settings, "demo", "--from-files")
    assert "The dashboard on the demo data" in out
    assert "serve --as-of 2001-02-28" in out
    demo = Settings(home=tmp_path / "home" / "demo")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update({k: v for k, v in settings_env(demo).items() if v is not None})
    env["KEEPWARM_PUBLIC_URL"] = base
    server = subprocess.Popen(
        python_command("-m", "keepwarm", "serve", "--as-of", "2001-02-28", "--port", str(port)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )
    try:
        wait_until_healthy(server, base, deadline_s=60)
        # When a browser on this machine opens it and presses "Open as this machine's user"
        jar = http.cookiejar.CookieJar()
        browser = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(jar)
        )
        with browser.open(f"{base}/", timeout=10) as page:
            signin = page.read().decode()
        assert "Open as this machine" in signin
        csrf = re.search(r'name="csrf" value="([^"]+)"', signin)
        assert csrf is not None
        form = urllib.parse.urlencode({"csrf": csrf.group(1)}).encode()
        with browser.open(f"{base}/auth/local", data=form, timeout=30) as page:
            queue = page.read().decode()
            assert page.url == f"{base}/queue"
        # Then the demo owner's queue is there, as it stood on the demo's day
        assert queue.count('class="card"') == 25
        assert "; last: " in queue
    finally:
        out, err = stop(server)
    assert server.returncode == 0, err
    assert "in a browser on this machine to use it as this install's own user" in out
