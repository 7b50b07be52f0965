"""Running `keepwarm` as an operator with a hostile or careless environment would: variables
exported empty, a terminal that shows colours and hyperlinks, a deadline on every run."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping

from keepwarm.services.core.config import Settings
from tests.support.cli import REPO, settings_env
from tests.support.shifted import python_command

__all__ = ["BOUND_SECONDS", "plain", "run_as_operator"]

# No command in these tests may take longer: one that hangs or retries forever fails here.
BOUND_SECONDS = 60.0

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def run_as_operator(
    settings: Settings, *args: str, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`keepwarm ARGS` in a fresh process, with `settings` exported as they are (an empty
    key is exported empty, as an operator's typo leaves it) and `env` on top."""
    full = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    full.update({k: v for k, v in settings_env(settings).items() if v is not None})
    for name, value in (
        ("KEEPWARM_TOKEN_KEY", settings.token_key),
        ("KEEPWARM_SECRET_KEY", settings.secret_key),
    ):
        if value is not None:
            full[name] = value.get_secret_value()
    full.update(env or {})
    return subprocess.run(
        python_command("-m", "keepwarm", *args),
        capture_output=True,
        text=True,
        env=full,
        cwd=REPO,
        timeout=BOUND_SECONDS,
        check=False,
    )


def plain(output: str) -> str:
    """`output` without colours and without the table's borders and padding, so a folded cell
    reads as one string again."""
    text = _ANSI.sub("", output)
    return re.sub(r"[\s│┃║|─━┏┓┗┛┡┩┣┫┳┻╇╈╋└┘┌┐├┤┬┴┼]+", "", text)
