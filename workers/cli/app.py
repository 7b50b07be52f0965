"""The typer application, its shared options and the error boundary."""

from __future__ import annotations

import importlib
import logging
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.text import Text
from typer.core import TyperCommand, TyperGroup

from keepwarm.connectors.errors import ConnectorError, ProviderError
from keepwarm.services.core.errors import AppError, InvalidInput

if TYPE_CHECKING:  # imported when a command runs: --help must not pay for them
    from typer import _click as click

    from keepwarm.services.core.config import Settings
    from keepwarm.services.runtime import Runtime

__all__ = [
    "app",
    "console",
    "err_console",
    "main",
    "open_runtime",
    "parse_as_of",
    "parse_span",
    "styled",
]

# Every command, in the order --help lists them: the module that defines it and its one line
# of help. --help reads this table instead of importing the command modules, which load
# SQLAlchemy, the providers' clients and the runtime (1.3 s before anything happened); running
# a command imports only its own module. tests/workers/test_cli_commands.py checks the table
# against what the modules define.
COMMANDS: dict[str, tuple[str, str]] = {
    "connect": (
        "accounts",
        "Connect a mail and calendar account once (OAuth): headers and events, read-only.",
    ),
    "accounts": (
        "accounts",
        "Connected accounts: status, last successful sync, what the last run did.",
    ),
    "sync": (
        "accounts",
        "Sync every connected account now (the scheduler also does this every 15 minutes).",
    ),
    "disconnect": (
        "accounts",
        "Disconnect an account: revoke keepwarm's access at the provider and stop syncing it.",
    ),
    "import": (
        "importing",
        "Import mailboxes and calendars (headers only) and derive your relationships.",
    ),
    "suggestions": (
        "queue",
        "Whom to reconnect with: people gone quiet for longer than usual for them, best first.",
    ),
    "contacts": (
        "queue",
        "Everyone you have a relationship with (you wrote to them or met them), strongest first.",
    ),
    "contact": ("queue", "One person and your timeline with them, newest first."),
    "snooze": (
        "lifecycle",
        "Not now: leave this person out of the queue for a while (their rhythm stretches too).",
    ),
    "done": ("lifecycle", "You reached out: the clock restarts and they rest for the cool-down."),
    "talked": (
        "lifecycle",
        "You talked on another channel (phone, chat, in person): counts as contact.",
    ),
    "stop": ("lifecycle", "Never suggest this person again (undo with `keepwarm resume`)."),
    "resume": ("lifecycle", "Undo a stop or a snooze."),
    "digest": (
        "notify",
        "The weekly reconnect digest: preview it, schedule it, or see its history.",
    ),
    "prompts": (
        "notify",
        "Post-meeting prompts: sent, pending and upcoming (meetings in the next day that qualify).",
    ),
    "note": ("notify", "Add a note to a contact's timeline."),
    "follow-up": (
        "notify",
        "Be reminded of someone in the digest, unless you are in touch before then.",
    ),
    "intro": (
        "intro",
        "Who could introduce you: your contacts who wrote or met with that person or company.",
    ),
    "merge": ("identity", "These two addresses are one person (later imports keep them together)."),
    "split": (
        "identity",
        "This address is someone else: take it out of the person it was merged into.",
    ),
    "demo": (
        "demo",
        "See the product as a connected user would, on a real sample mailbox; no servers needed.",
    ),
    "scheduler": (
        "scheduler",
        "Sync every account and send the digests and meeting prompts that are due, on schedule.",
    ),
    "worker": (
        "worker",
        "Run a background worker against REDIS_URL and DATABASE_URL until interrupted.",
    ),
    "serve": ("serve", "Serve the web app, the REST API and the pages the links in digests open."),
    "sandbox": (
        "sandbox",
        "Serve a local, wire-faithful provider (OAuth, mail, calendar) for tests and demos.",
    ),
}


def load_command(name: str) -> click.Command:
    """The command `name` as its module defines it (importing that module only)."""
    module = importlib.import_module(f"keepwarm.workers.cli.{COMMANDS[name][0]}")
    commands: typer.Typer = module.commands
    for info in commands.registered_commands:
        if info.name == name:
            return typer.main.get_command_from_info(
                info, pretty_exceptions_short=True, rich_markup_mode="rich"
            )
    raise LookupError(f"keepwarm.workers.cli.{COMMANDS[name][0]} defines no command {name!r}")


class _LazyCommands(TyperGroup):
    """The root group: lists COMMANDS from the table, loads a command only to run it."""

    _listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in COMMANDS:
            return None
        if self._listing:  # help only needs the line of help
            line = COMMANDS[cmd_name][1]
            return TyperCommand(cmd_name, help=line, short_help=line)
        return load_command(cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


app = typer.Typer(
    cls=_LazyCommands,
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
# Whatever is printed is data, never Rich markup: names and subjects come from other people's
# mail, and Rich would read "[/x]" as a closing tag (a crash) or "[link=...]" as a disguised
# hyperlink. Our own emphasis is a `styled` Text, which Rich never parses; every table cell and
# message goes through these two consoles, so this is the one place it is decided.
console = Console(markup=False, emoji=False)
err_console = Console(stderr=True, markup=False, emoji=False)


def styled(*parts: str | tuple[str, str]) -> Text:
    """Text with our own emphasis: plain strings, or (text, style) pairs such as
    ("Jane", "bold"); nothing in it is read as markup."""
    return Text.assemble(*parts)


@app.callback()
def _root() -> None:
    # A callback makes the root a group of its own class (_LazyCommands); it does nothing.
    pass


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
    from pydantic import ValidationError

    from keepwarm.services.core.config import Settings

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
    from keepwarm.services.runtime import build_runtime

    runtime = build_runtime(settings or load_settings())
    try:
        yield runtime
    finally:
        runtime.close()


def _one_line_for_known_errors(record: logging.LogRecord) -> bool:
    """A job that failed with one of our own errors (a provider outage the worker retries,
    say) is logged as one line naming it, not a traceback: the person watching a command
    needs what happened, and `keepwarm accounts` has the rest. A bug keeps its traceback."""
    error = record.exc_info[1] if record.exc_info else None
    if isinstance(error, (AppError, ConnectorError)):
        record.msg = f"{record.getMessage()} {type(error).__name__}: {error}"
        record.args, record.exc_info, record.exc_text = None, None, None
    return True


def _error(line: str) -> None:
    # Plain write: rich would wrap a long path onto a second line.
    sys.stderr.write(f"keepwarm: {line}\n")


def main() -> None:
    """Console entry point: one line and exit 2 for bad input, never a traceback."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # Dramatiq logs every worker start and stop at INFO; a person running a command needs none.
    logging.getLogger("dramatiq").setLevel(logging.ERROR)
    for handler in logging.getLogger().handlers:
        handler.addFilter(_one_line_for_known_errors)
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
