"""Names and subjects are other people's data: the CLI prints them as they are, never as Rich
markup. A name with `[/x]` used to end `contacts`, `contact` and `suggestions` in "internal
error", and `[link=https://evil.example]Jane Doe[/link]` showed a disguised terminal hyperlink."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from keepwarm.services.core.config import Settings
from tests.support.cli import run_cli
from tests.support.hostile import BOUND_SECONDS, plain, run_as_operator

ME = "me@corp.example"
LINK = "[link=https://evil.example]Jane Doe[/link]"
HOSTILE = {
    "jane@evil.example": LINK,
    "closer@evil.example": "Mallory [/x] Closer",
    "style@evil.example": "[bold red]Not Bold[/bold red] :smile:",
}
SUBJECT = "Q3 [/] numbers [link=https://evil.example]click[/link]"
# A terminal that shows colours and hyperlinks, wide enough that cells are not folded
TERMINAL = {"FORCE_COLOR": "1", "COLUMNS": "250", "TERM": "xterm-256color"}


def _mbox(path: Path) -> Path:
    """A year of mail with each hostile name, answered, then silence: all are due by 2001-06."""
    out = []
    start = datetime(2000, 1, 10, 9, tzinfo=UTC)
    n = 0
    for address, name in HOSTILE.items():
        for month in range(10):
            at = start + timedelta(days=30 * month)
            for sender, to in ((ME, f'"{name}" <{address}>'), (f'"{name}" <{address}>', ME)):
                n += 1
                out.append(
                    f"From x {at:%a %b %d %H:%M:%S %Y}\n"
                    f"From: {sender}\nTo: {to}\nSubject: {SUBJECT}\n"
                    f"Date: {format_datetime(at)}\nMessage-ID: <m{n}@corp.example>\n\nbody\n\n"
                )
                at += timedelta(hours=3)
    path.write_text("".join(out))
    return path


@pytest.fixture(scope="module")
def hostile_home(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    tmp = tmp_path_factory.mktemp("hostile")
    settings = Settings(home=tmp / "home", database_url=None, redis_url=None)
    run_cli(settings, "import", str(_mbox(tmp / "hostile.mbox")), "--me", ME)
    return settings


@pytest.mark.parametrize(
    "args",
    [
        ("contacts", "--as-of", "2001-06-30"),
        ("contact", "jane@evil.example"),
        ("contact", "closer@evil.example"),
        ("suggestions", "--as-of", "2001-06-30", "--limit", "10"),
    ],
)
def test_names_and_subjects_print_literally(hostile_home: Settings, args: tuple[str, ...]) -> None:
    started = time.monotonic()
    proc = run_as_operator(hostile_home, *args, env=TERMINAL)
    assert time.monotonic() - started < BOUND_SECONDS
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert "\x1b]8;" not in proc.stdout  # no terminal hyperlink, disguised or not
    shown = plain(proc.stdout)
    names = [HOSTILE[args[1]]] if args[0] == "contact" else list(HOSTILE.values())
    for name in names:
        # every word of it, markup included (a narrow column folds a long name over lines)
        for word in name.split():
            assert word in shown, name
    if args[0] == "contact":
        assert HOSTILE[args[1]] in proc.stdout.splitlines()[0]  # the heading, whole
        assert plain(SUBJECT) in shown


def test_json_output_keeps_the_names_as_they_are(hostile_home: Settings) -> None:
    proc = run_as_operator(hostile_home, "contacts", "--as-of", "2001-06-30", "--json")
    assert proc.returncode == 0, proc.stderr
    for name in HOSTILE.values():
        assert name.replace('"', '\\"') in proc.stdout
