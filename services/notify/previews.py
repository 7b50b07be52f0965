"""Previews: this week's digest and a meeting's prompt, rendered without sending anything.

What `keepwarm digest --preview` and the demo show, and what a web page can show too. The links
in a preview are real, signed links (a preview opened in a browser works like the email).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from keepwarm.services.models import User
from keepwarm.services.notify.digest import compose_digest
from keepwarm.services.notify.prompts import build_prompt, candidate_events, why_not_prompted
from keepwarm.services.notify.render import LinkMaker, RenderedEmail, render_digest, render_prompt
from keepwarm.services.notify.schedule import parse_timezone
from keepwarm.services.notify.send import PROMPT_REASON, digest_reason_line
from keepwarm.services.runtime import Runtime

__all__ = ["DigestPreview", "PromptPreview", "digest_preview", "latest_prompt_preview"]

# How far back a preview looks for a meeting to show the prompt of (the real window is a day).
_PREVIEW_WINDOW = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class DigestPreview:
    """A week's digest as it would go out, and how many people are in it."""

    email: RenderedEmail
    people: int


@dataclass(frozen=True, slots=True)
class PromptPreview:
    """A meeting's prompt as it would go out, and the meeting's title."""

    email: RenderedEmail
    meeting: str


def digest_preview(runtime: Runtime, user_id: int, as_of: datetime) -> DigestPreview:
    """The digest `user_id` would get as of `as_of` (no data after it used)."""
    rules = runtime.notify_rules
    with runtime.session_factory() as session:
        user = session.get(User, user_id)
        if user is None:
            raise LookupError(f"no user {user_id}")
        digest = compose_digest(session, user.id, as_of, rules.digest)
        links = LinkMaker(runtime.link_signer(), rules.public_url, user.id)
        email = render_digest(
            digest, links, parse_timezone(user.timezone), digest_reason_line(user)
        )
    return DigestPreview(email, len(digest.items))


def latest_prompt_preview(runtime: Runtime, user_id: int, as_of: datetime) -> PromptPreview | None:
    """The prompt of the latest meeting by `as_of` that earns one (looking a week back)."""
    rules = replace(runtime.notify_rules.prompt, window=_PREVIEW_WINDOW)
    with runtime.session_factory() as session:
        user = session.get(User, user_id)
        if user is None:
            raise LookupError(f"no user {user_id}")
        meetings = [
            e
            for e in candidate_events(session, [user.id], as_of, rules)
            if why_not_prompted(session, e, as_of, rules) is None
        ]
        if not meetings:
            return None
        prompt = build_prompt(session, meetings[-1])
        links = LinkMaker(runtime.link_signer(), runtime.notify_rules.public_url, user.id)
        email = render_prompt(prompt, links, parse_timezone(user.timezone), PROMPT_REASON)
    return PromptPreview(email, prompt.summary or "a meeting")
