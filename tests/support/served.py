"""`keepwarm serve` as a process: a free port, waiting until it is healthy, stopping it."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

__all__ = ["OPENER", "fetch", "free_port", "stop", "wait_until_healthy"]

# Straight to 127.0.0.1, whatever proxy the environment names.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    # The kernel picks a free port; it is released for the server to take a moment later.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fetch(url: str, data: bytes | None = None) -> tuple[int, str]:
    with OPENER.open(urllib.request.Request(url, data=data), timeout=10) as response:
        return response.status, response.read().decode()


def wait_until_healthy(server: subprocess.Popen[str], base: str, deadline_s: float) -> None:
    """Poll /healthz until it answers ok; fail at once if the process exits."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            status, body = fetch(f"{base}/healthz")
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


def stop(server: subprocess.Popen[str]) -> tuple[str, str]:
    """SIGTERM, as a service manager stops it; killed only if it hangs (which fails the test)."""
    server.send_signal(signal.SIGTERM)
    try:
        return server.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        out, err = server.communicate()
        return out, err + "\n(did not stop within 30 s of SIGTERM; killed)"
