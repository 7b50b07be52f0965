"""The command table --help reads is the commands the modules define, and --help stays light."""

from __future__ import annotations

import subprocess
import sys

from keepwarm.workers.cli.app import COMMANDS, app, load_command


def _first_paragraph(text: str | None) -> str:
    return " ".join((text or "").split("\n\n")[0].split())


def test_the_table_lists_every_command_with_its_own_help() -> None:
    for name, (_module, line) in COMMANDS.items():
        command = load_command(name)
        assert command.name == name
        assert _first_paragraph(command.help) == line, name


def test_every_command_module_is_in_the_table() -> None:
    import importlib
    import pkgutil

    import keepwarm.workers.cli as package

    defined = set()
    for info in pkgutil.iter_modules(package.__path__):
        if info.name == "__main__":
            continue
        module = importlib.import_module(f"keepwarm.workers.cli.{info.name}")
        commands = getattr(module, "commands", None)
        if commands is not None:
            defined |= {(c.name, info.name) for c in commands.registered_commands}
    assert defined == {(name, module) for name, (module, _) in COMMANDS.items()}


def test_help_lists_every_command_and_loads_none() -> None:
    out = run_cli_help()
    for name in COMMANDS:
        assert f" {name} " in out, name
    # A fresh process: --help imports neither SQLAlchemy nor a provider's client
    probe = (
        "import sys; from keepwarm.workers.cli import main; sys.argv = ['keepwarm', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('sqlalchemy', 'googleapiclient', 'msal', 'pydantic_settings',"
        " 'keepwarm.services.runtime') if m in sys.modules]\n"
        "print('HEAVY', heavy)"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert "HEAVY []" in proc.stdout, proc.stdout[-500:]


def run_cli_help() -> str:
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def test_an_unknown_command_is_a_usage_error() -> None:
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, ["no-such-command"])
    assert result.exit_code == 2
    assert "No such command" in result.output
