"""`keepwarm demo`: the whole product on a real sample mailbox, with no servers."""

from __future__ import annotations

import shutil

from sqlalchemy import func, select

from services import views
from services.demo import SAMPLE_MAILBOX
from services.models import Message
from services.users import ensure_user
from workers.cli.app import app, console, err_console, load_settings, open_runtime
from workers.cli.importing import print_summary, run_import
from workers.cli.queue import print_queue


@app.command("demo")
def demo_command() -> None:
    """Import a real sample mailbox (a slice of an Enron executive's) and show the queue.

    Runs embedded in KEEPWARM_HOME/demo, started afresh each time; your own data is untouched.
    """
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
            last = session.scalar(select(func.max(Message.sent_at)))
            assert last is not None, "the demo mailbox has dated messages"
            items = views.suggestions(session, user_id, last, runtime.queue_rules, 10)
            contacts = len(views.list_contacts(session, user_id, last))
    console.print()
    console.print(
        f"The mailbox ends on {last:%Y-%m-%d}, so the queue is shown as of that day. "
        f"{contacts} people are relationships (you wrote to them or met them)."
    )
    print_queue(items, f"Reconnect queue as of {last:%Y-%m-%d}")
    console.print()
    console.print("[bold]Where next[/bold]", highlight=False)
    console.print(
        f"  KEEPWARM_HOME={home} keepwarm suggestions --as-of {last:%Y-%m-%d} --json\n"
        f"  KEEPWARM_HOME={home} keepwarm contacts\n"
        "  keepwarm import ~/Takeout/Mail/All\\ mail\\ Including\\ Spam\\ and\\ Trash.mbox "
        "(your own mailbox)\n"
        "  keepwarm --help",
        markup=False,
        highlight=False,
    )
