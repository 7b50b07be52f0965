"""The typer application, its shared options and the error boundary."""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta

import typer
from pydantic import ValidationError
from rich.console import Console

from keepwarm.connectors.errors import ConnectorError, ProviderError
from keepwarm.services.core.config import Settings
from keepwarm.services.core.errors import AppError, InvalidInput
from keepwarm.services.runtime import Runtime, build_runtime

__all__ = [
    "app",
    "console",
    "err_console",
    "main",
    "open_runtime",
    "parse_as_of",
    "parse_span",
]

app = typer.Typer(
    name="keepwarm",
    help=(
        "Keep your professional network warm: connect or import mail and calendars, derive "
        "who you are in touch with, see whom to reconnect with, and get a weekly digest and "
        "post-meeting prompts by email.\n\n"
        "Data lives under KEEPWARM_HOME (default ~/.local/share/keepwarm); set DATABASE_URL "
        "and REDIS_URL to run on PostgreSQL and Redis."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)


class UsageError(InvalidInput):
    """A command-line argument that cannot be used."""


def parse_as_of(value: str | None, option: str = "--as-of") -> datetime | None:
    """The end of day `value` (YYYY-MM-DD) in UTC, None when not given (the caller's "now",
    from the runtime's clock); nothing later than it is used."""
    if value is None:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise UsageError(f"{option}: expected a date as YYYY-MM-DD, got {value!r}") from None
    return datetime.combine(day, time.min, UTC) + timedelta(days=1) - timedelta(microseconds=1)


_SPAN = re.compile(r"^(\d+)\s*([dwmy])$")
_SPAN_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}


def parse_span(value: str, option: str) -> timedelta:
    """A span like 2w, 1m, 3m or 10d; raises UsageError naming `option`."""
    match = _SPAN.match(value.strip().lower())
    if not match or int(match.group(1)) == 0:
        raise UsageError(f"{option}: expected a span like 2w, 1m or 3m, got {value!r}")
    return timedelta(days=int(match.group(1)) * _SPAN_DAYS[match.group(2)])


def load_settings() -> Settings:
    """Build the settings from the environment, naming the variable at fault."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        # A rule across settings has no single field; its message names the variables.
        where = f"setting {field}: " if field else "settings: "
        raise UsageError(f"{where}{first['msg']}") from None


@contextmanager
def open_runtime(settings: Settings | None = None) -> Iterator[Runtime]:
    """Build the runtime for one command and release it afterwards."""
    runtime = build_runtime(settings or load_settings())
    try:
        yield runtime
    finally:
        runtime.close()


def _error(line: str) -> None:
    # Plain write: rich would wrap a long path onto a second line.
    sys.stderr.write(f"keepwarm: {line}\n")


def main() -> None:
    """Console entry point: one line and exit 2 for bad input, never a traceback."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # Dramatiq logs every worker start and stop at INFO; a person running a command needs none.
    logging.getLogger("dramatiq").setLevel(logging.ERROR)
    try:
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except AppError as exc:
        _error(str(exc))
        sys.exit(2)
    except ConnectorError as exc:
        # What was asked of the source is the person's to fix (exit 2); a provider that
        # failed is not (exit 1). Either way one line (services.core.errors has the table).
        _error(str(exc))
        sys.exit(1 if isinstance(exc, ProviderError) else 2)
    except (typer.Abort, KeyboardInterrupt):
        _error("interrupted")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # the process edge: report, do not dump a traceback on a person
        import click

        # Typer 0.29 carries its own copy of click, whose errors derive from TyperException;
        # usage errors carry exit code 2 in both.
        if isinstance(exc, (click.ClickException, typer.TyperException)):
            exc.show()  # type: ignore[union-attr]
            sys.exit(getattr(exc, "exit_code", 1))
        if os.environ.get("KEEPWARM_DEBUG"):
            raise
        _error(f"internal error: {type(exc).__name__}: {exc} (set KEEPWARM_DEBUG=1 for details)")
        sys.exit(1)


# Register the commands (modules attach themselves to `app`).
from keepwarm.workers.cli import (  # noqa: E402,F401
    accounts,
    demo,
    identity,
    importing,
    intro,
    lifecycle,
    notify,
    queue,
    sandbox,
    scheduler,
    serve,
    worker,
)
