"""`keepwarm sandbox microsoft` in a process of its own, driven over HTTP as a benchmark or the
demo would."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path
from urllib.request import Request, urlopen

from tests.support.paths import ENRON
from tests.support.paths import SANDBOX_OWNER as OWNER
from tests.support.shifted import python_command

REPO = Path(__file__).resolve().parents[3]


def test_cli_serves_until_ctrl_c() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        python_command(
            "-m",
            "keepwarm",
            "sandbox",
            "microsoft",
            "--seed",
            str(ENRON / "sent_items"),
            "--port",
            "0",
            "--user",
            OWNER,
        ),
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("Microsoft sandbox at http://127.0.0.1:") and OWNER in first
        url = first.split()[3]
        lines = [process.stdout.readline() for _ in range(6)]
        assert any("authority:" in line and "https://127.0.0.1:" in line for line in lines)
        assert lines[-1].startswith("Ctrl-C")
        with urlopen(Request(url + "/_sandbox/stats"), timeout=5) as response:
            stats = json.load(response)
        assert stats["user"] == OWNER and stats["folders"] == {"Sent Items": 3}
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0 and "stopped" in out
