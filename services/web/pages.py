"""The HTML pages the link server answers with: confirm, note form, outcome, error (Jinja2)."""

from __future__ import annotations

from datetime import datetime

from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from keepwarm.services.notify.links import LABELS, LinkAction
from keepwarm.services.reconnect.notes import MAX_NOTE_CHARS

__all__ = [
    "PRIVATE_HEADERS",
    "already_done_page",
    "confirm_page",
    "done_page",
    "message_page",
    "note_page",
]

# The token in the URL is a key to the user's data: no cache may keep a page, no Referer may carry
# the URL to another site, and no search engine may index it. The policy allows the inline style
# and forms posting back here, nothing else (no script, no frames, no outside resources).
PRIVATE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}

_SNOOZED = "They are left out of your suggestions until then."
_FOLLOW = "It shows in your weekly digest when due, unless you are in touch before."

# What a followed link did, in the past tense, and what it means for the user.
_DONE = {
    LinkAction.DONE: ("Marked done", "The clock restarts; they rest a while before coming back."),
    LinkAction.TALKED: ("Noted that you talked", "It counts as being in touch."),
    LinkAction.SNOOZE_2W: ("Snoozed 2 weeks", _SNOOZED),
    LinkAction.SNOOZE_1M: ("Snoozed 1 month", _SNOOZED),
    LinkAction.SNOOZE_3M: ("Snoozed 3 months", _SNOOZED),
    LinkAction.STOP: ("Stopped suggesting", "They will not be suggested again."),
    LinkAction.NOTE: ("Note saved", "It is on their timeline."),
    LinkAction.FOLLOW_1W: ("Follow-up in 1 week", _FOLLOW),
    LinkAction.FOLLOW_2W: ("Follow-up in 2 weeks", _FOLLOW),
    LinkAction.FOLLOW_1M: ("Follow-up in 1 month", _FOLLOW),
    LinkAction.UNSUBSCRIBE_DIGEST: ("Unsubscribed from the weekly digest", "No more digests."),
    LinkAction.UNSUBSCRIBE_PROMPTS: ("Unsubscribed from meeting prompts", "No more prompts."),
}

_env = Environment(
    loader=PackageLoader("keepwarm.services.web", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _page(template: str, status: int, title: str, **context: object) -> HTMLResponse:
    html = _env.get_template(template).render(title=title, **context)
    return HTMLResponse(html, status_code=status, headers=PRIVATE_HEADERS)


def _past(action: LinkAction, outcome: str) -> str:
    # `outcome` is describe()'s "<label>: <name>"; the person's name is what follows the label.
    head = _DONE[action][0]
    name = outcome.removeprefix(LABELS[action]).removeprefix(": ")
    return f"{head}: {name}" if name and name != outcome else head


def confirm_page(what: str, *, unsubscribe: bool) -> HTMLResponse:
    """The page a link opens: what pressing its one button will do."""
    button = "Unsubscribe" if unsubscribe else "Confirm"
    return _page("confirm.html", 200, "Confirm", what=what, button=button, one_click=unsubscribe)


def note_page(what: str, text: str = "", error: str | None = None) -> HTMLResponse:
    """The note form; with `error`, shown again (400) with what was typed."""
    return _page(
        "note.html",
        200 if error is None else 400,
        "Add a note",
        what=what,
        text=text,
        error=error,
        max_chars=MAX_NOTE_CHARS,
    )


def done_page(action: LinkAction, outcome: str) -> HTMLResponse:
    """What a link just did ("Snoozed 1 month: Jane Doe")."""
    return _page(
        "message.html", 200, "Done", headline=_past(action, outcome), detail=_DONE[action][1]
    )


def already_done_page(
    action: LinkAction, outcome: str, used_at: datetime | None, status: int
) -> HTMLResponse:
    """A link followed before: what it did then; nothing happens again."""
    when = f" (on {used_at:%d %b %Y})" if used_at is not None else ""
    return _page(
        "message.html",
        status,
        "Already done",
        headline="Already done",
        detail=f"{_past(action, outcome)}{when}. Each link acts once: nothing more was changed.",
    )


def message_page(status: int, headline: str, detail: str | None = None) -> HTMLResponse:
    """An error or a notice."""
    return _page("message.html", status, headline, headline=headline, detail=detail)
