"""Running the real `keepwarm` CLI in-process (typer's runner) and as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from keepwarm.services.core.config import Settings
from keepwarm.workers.cli import app
from tests.support.shifted import python_command

REPO = Path(__file__).resolve().parents[2]


def settings_env(settings: Settings) -> dict[str, str | None]:
    """The environment that makes the CLI build exactly `settings`."""
    return {
        "KEEPWARM_HOME": str(settings.home),
        "DATABASE_URL": settings.database_url.get_secret_value() if settings.database_url else None,
        "REDIS_URL": settings.redis_url.get_secret_value() if settings.redis_url else None,
        "KEEPWARM_QUEUE_NAMESPACE": settings.queue_namespace,
        "KEEPWARM_TOKEN_KEY": settings.token_key.get_secret_value() if settings.token_key else None,
        "KEEPWARM_SECRET_KEY": (
            settings.secret_key.get_secret_value() if settings.secret_key else None
        ),
        "KEEPWARM_PUBLIC_URL": settings.public_url,
        "KEEPWARM_SMTP_HOST": settings.smtp_host,
        "KEEPWARM_SMTP_PORT": str(settings.smtp_port),
        "KEEPWARM_SMTP_SECURITY": settings.smtp_security,
    }


def run_cli(settings: Settings, *args: str) -> str:
    """Run a command in-process; fail the test with its output unless it exits 0."""
    result = CliRunner().invoke(app, list(args), env=settings_env(settings))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    return result.output


def run_json(settings: Settings, *args: str) -> Any:
    return json.loads(run_cli(settings, *args, "--json"))


def run_process(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m keepwarm.workers.cli` as a person would, with the error boundary of `main`."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update({k: v for k, v in settings_env(settings).items() if v is not None})
    return subprocess.run(
        python_command("-m", "keepwarm", *args),
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=300,
        check=False,
    )


def assert_one_line_error(proc_stderr: str, *needles: str) -> None:
    """A failed command said exactly one line, with each of `needles`, and no traceback."""
    lines = [line for line in proc_stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc_stderr
    assert "Traceback" not in proc_stderr
    for needle in needles:
        assert needle in lines[0]
