"""Turning a digest or a prompt into an email's subject, plain text and HTML (Jinja2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from keepwarm.services.notify.digest import Digest
from keepwarm.services.notify.links import LABELS, LinkAction, LinkSigner, link_url
from keepwarm.services.notify.prompts import MeetingPrompt
from keepwarm.services.reconnect.engine import describe_gap

__all__ = ["LinkMaker", "RenderedEmail", "render_digest", "render_prompt", "render_stale"]

DIGEST_ACTIONS = (
    LinkAction.DONE,
    LinkAction.TALKED,
    LinkAction.SNOOZE_2W,
    LinkAction.SNOOZE_1M,
    LinkAction.SNOOZE_3M,
    LinkAction.STOP,
)
PROMPT_ACTIONS = (
    LinkAction.NOTE,
    LinkAction.FOLLOW_1W,
    LinkAction.FOLLOW_2W,
    LinkAction.FOLLOW_1M,
)
SHORT = {
    LinkAction.DONE: "Done",
    LinkAction.TALKED: "Talked elsewhere",
    LinkAction.SNOOZE_2W: "Snooze 2w",
    LinkAction.SNOOZE_1M: "Snooze 1m",
    LinkAction.SNOOZE_3M: "Snooze 3m",
    LinkAction.STOP: "Stop suggesting",
    LinkAction.NOTE: "Add a note",
    LinkAction.FOLLOW_1W: "Follow up in 1 week",
    LinkAction.FOLLOW_2W: "in 2 weeks",
    LinkAction.FOLLOW_1M: "in 1 month",
}
REASONS = {
    "follow_up": "Follow-up due",
    "overdue": "Overdue",
    "due": "Due",
    "dormant": "Worth reviving",
}

_env = Environment(
    loader=PackageLoader("keepwarm.services.notify", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def mailto(address: str) -> str:
    """A mailto: URL for `address`, percent-encoded: an address is someone else's data, and
    `a@x?bcc=me@evil.example` taken as it is would add recipients to the reader's reply."""
    return "mailto:" + quote(address, safe="@")


_env.filters["mailto"] = mailto


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    """An email ready for the mailer."""

    subject: str
    text: str
    html: str
    unsubscribe_url: str


@dataclass(frozen=True, slots=True)
class LinkMaker:
    """Signs one user's links and points them at the server."""

    signer: LinkSigner
    public_url: str
    user_id: int

    def url(
        self, action: LinkAction, person_id: int | None = None, event_id: int | None = None
    ) -> str:
        token = self.signer.token(self.user_id, action, person_id, event_id)
        return link_url(self.public_url, action, token)


def _when(value: datetime, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%a %d %b %Y, %H:%M")


def _day(value: datetime) -> str:
    return value.strftime("%Y-%m-%d")


def _render(name: str, **context: object) -> tuple[str, str]:
    text = _env.get_template(f"{name}.txt").render(**context)
    html = _env.get_template(f"{name}.html").render(**context)
    return text, html


def render_digest(
    digest: Digest, links: LinkMaker, zone: ZoneInfo, reason_line: str
) -> RenderedEmail:
    """The weekly digest. `reason_line` says why the user gets it (and when it comes)."""
    items = []
    for item in digest.items:
        items.append(
            {
                "item": item,
                "reason": REASONS.get(item.reason, item.reason),
                "silent": describe_gap(
                    (digest.as_of - item.last_at).total_seconds() / 86400
                ).removeprefix("~"),
                "last_day": _day(item.last_at),
                "links": [
                    (SHORT[a], LABELS[a], links.url(a, item.person_id)) for a in DIGEST_ACTIONS
                ],
            }
        )
    unsubscribe = links.url(LinkAction.UNSUBSCRIBE_DIGEST)
    count = len(digest.items)
    subject = (
        f"{count} {'person' if count == 1 else 'people'} to reconnect with this week"
        if count
        else "Your network this week: nobody is overdue"
    )
    text, html = _render(
        "digest",
        subject=subject,
        items=items,
        health=digest.health,
        as_of=_when(digest.as_of, zone),
        reason_line=reason_line,
        unsubscribe=unsubscribe,
    )
    return RenderedEmail(subject, text, html, unsubscribe)


def render_prompt(
    prompt: MeetingPrompt, links: LinkMaker, zone: ZoneInfo, reason_line: str
) -> RenderedEmail:
    """The email after a meeting: who was there, when you last spoke, note and follow-up."""
    people = []
    for person in prompt.people:
        last = (
            f"last spoke {_day(person.last_at)}"
            + (f" ('{person.last_subject}')" if person.last_subject else "")
            if person.last_at
            else "no earlier contact on record"
        )
        people.append(
            {
                "person": person,
                "last": last,
                "links": [
                    (SHORT[a], LABELS[a], links.url(a, person.person_id, prompt.event_id))
                    for a in PROMPT_ACTIONS
                ]
                if person.person_id is not None
                else [],
            }
        )
    unsubscribe = links.url(LinkAction.UNSUBSCRIBE_PROMPTS)
    title = prompt.summary or "your meeting"
    subject = f"After “{title}”: a note or a follow-up?"
    text, html = _render(
        "prompt",
        subject=subject,
        title=title,
        when=f"{_when(prompt.start, zone)}–{prompt.end.astimezone(zone):%H:%M}",
        people=people,
        reason_line=reason_line,
        unsubscribe=unsubscribe,
    )
    return RenderedEmail(subject, text, html, unsubscribe)


def render_stale(reasons: list[str], links: LinkMaker, reason_line: str) -> RenderedEmail:
    """Sent instead of a digest when the data behind it is out of date."""
    unsubscribe = links.url(LinkAction.UNSUBSCRIBE_DIGEST)
    subject = "No digest this week: your mail is not up to date"
    text, html = _render(
        "stale",
        subject=subject,
        reasons=reasons,
        reason_line=reason_line,
        unsubscribe=unsubscribe,
    )
    return RenderedEmail(subject, text, html, unsubscribe)
