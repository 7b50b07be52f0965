"""`keepwarm demo`: the whole product on a real sample mailbox, with no servers."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from services import views
from services.demo import SAMPLE_MAILBOX
from services.users import ensure_user
from workers.cli.app import (
    app,
    console,
    err_console,
    load_settings,
    open_runtime,
    parse_as_of,
)
from workers.cli.importing import print_summary, run_import
from workers.cli.queue import print_queue

# The sample's sent mail is continuous until the end of February 2001, then has a gap of eight
# months (the Enron export kept only some folders); a queue read after the gap would only show
# the gap.
DEMO_AS_OF = "2001-02-28"


@app.command("demo")
def demo_command() -> None:
    """Import a real sample mailbox (a slice of an Enron executive's) and show the queue.

    Runs embedded in KEEPWARM_HOME/demo, started afresh each time; your own data is untouched.
    """
    as_of = parse_as_of(DEMO_AS_OF)
    base = load_settings()
    home = base.home / "demo"
    shutil.rmtree(home, ignore_errors=True)
    settings = base.model_copy(update={"home": home, "database_url": None, "redis_url": None})
    console.print(
        f"[bold]keepwarm demo[/bold]: importing {SAMPLE_MAILBOX.name} "
        "(headers of a real Enron mailbox, 2000-2002; the owner is inferred from sent mail)"
    )
    with open_runtime(settings) as runtime:
        summary = run_import(runtime, [SAMPLE_MAILBOX], [], show_progress=err_console.is_terminal)
        print_summary(summary)
        with runtime.session_factory() as session:
            user_id = ensure_user(session).id
            items = views.suggestions(session, user_id, as_of, runtime.queue_rules, 10)
            contacts = len(views.list_contacts(session, user_id, as_of))
    console.print()
    console.print(
        f"The owner's sent mail in this export runs without a break until {DEMO_AS_OF} "
        "(then stops until November 2001), so the queue is shown as it stood that day, "
        f"using no later mail. {contacts} people were relationships by then "
        "(the owner wrote to them or met them)."
    )
    print_queue(items, f"Reconnect queue as of {DEMO_AS_OF}")
    console.print()
    kw = _program()
    env = f"KEEPWARM_HOME={home}"
    console.print("[bold]Where next[/bold]", highlight=False)
    for line in (
        f"{env} {kw} suggestions --as-of {DEMO_AS_OF} --json",
        f"{env} {kw} contact {items[0].stats.history.addresses[0]}",
        f"{env} {kw} contacts --as-of {DEMO_AS_OF}",
        f"{kw} import PATH...   # your own mailbox: Takeout mbox, maildir, .eml, .ics",
        f"{kw} --help",
    ):
        console.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)


def _program() -> str:
    """How the user can call keepwarm again: by name when it is on PATH, else by path."""
    invoked = Path(sys.argv[0])
    on_path = shutil.which("keepwarm")
    if on_path and invoked.name == "keepwarm" and Path(on_path).resolve() == invoked.resolve():
        return "keepwarm"
    if invoked.name == "keepwarm" and invoked.exists():
        try:
            return str(invoked.resolve().relative_to(Path.cwd()))
        except ValueError:
            return str(invoked)
    return "keepwarm"
