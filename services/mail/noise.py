"""Rules that tell mail and meetings carrying a relationship from everything else.

Each rule reads only stored header facts, so changing a rule needs a re-derivation, never a
re-import. The reasons are reported to the user in the import summary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["FilterReason", "MessageFacts", "classify_message", "munged_author"]


class FilterReason(StrEnum):
    """Why a message or event carries no relationship."""

    MAILING_LIST = "mailing_list"
    PROVIDER_CATEGORY = "provider_category"
    BOUNCE = "bounce"
    AUTO_REPLY = "auto_reply"
    CALENDAR_NOTIFICATION = "calendar_notification"
    AUTOMATED = "automated"
    BULK = "bulk"
    NO_DATE = "no_date"
    NO_SENDER = "no_sender"
    TO_SELF = "to_self"
    OWNER_UNKNOWN = "owner_unknown"
    SENT_BY_DELEGATE = "sent_by_delegate"
    FROM_OWNER_NOT_SENT = "from_owner_not_sent"
    SPAM = "spam"
    CANCELLED = "cancelled"
    DECLINED = "declined"
    ALL_DAY = "all_day"
    NO_GUESTS = "no_guests"
    LARGE_MEETING = "large_meeting"


@dataclass(frozen=True, slots=True)
class MessageFacts:
    """The stored header facts the rules read."""

    sender: str | None
    subject: str | None
    list_id: str | None
    list_unsubscribe: bool
    precedence: str | None
    auto_submitted: str | None
    content_type: str | None
    auto_reply_header: bool
    labels: str | None = None


_BOUNCE_LOCALS = {"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"}
_BOUNCE_SUBJECT = re.compile(
    r"^(undeliverable|undelivered mail|delivery status notification|delivery failure|"
    r"returned mail|mail delivery failed|failure notice|delivery has failed|"
    r"message not delivered|nondeliverable)",
    re.I,
)
# Whole subjects or prefixes ending in a colon: "Out of Office Procedure" is a real topic.
_AUTO_REPLY_SUBJECT = re.compile(
    r"^(out of (the )?office( auto ?reply)?|automatic reply|auto(matic)?[- ]?reply|auto|"
    r"abwesenheitsnotiz|r[ée]ponse automatique|away from (my|the) office|on vacation)"
    r"\s*(:|$)",
    re.I,
)
_CALENDAR_SUBJECT = re.compile(
    r"^(invitation|updated invitation|accepted|declined|tentatively accepted|"
    r"canceled event|cancelled event|new event|event canceled|event cancelled)"
    r"( with note)?:",
    re.I,
)
_CALENDAR_SENDERS = {"calendar-notification@google.com", "calendar-server@google.com"}
_AUTOMATED_LOCAL = re.compile(
    r"^(no[-_.]?reply|do[-_.]?not[-_.]?reply|noreply|notifications?|notify|alerts?|"
    r"mailer|bounces?|newsletters?|news|automated|system|daemon|digest|updates?|"
    r"info|support|billing|marketing|promo(tions)?)([-_.+].*)?$",
    re.I,
)


# Gmail's tabs other than Primary (API label ids, and Takeout's spelling of them), and
# Outlook's Other tab (Focused Inbox's inferenceClassification, carried by the Graph connector).
_CATEGORIES = {
    "outlook_other",
    "category_promotions",
    "category_social",
    "category_updates",
    "category_forums",
    "category promotions",
    "category social",
    "category updates",
    "category forums",
}
_VIA = re.compile(r"^(?P<author>.+?) via (?P<list>[^<>@]+)$", re.I)


def munged_author(name: str | None) -> str | None:
    """The author's name in a DMARC-munged list From ('Ann Lee via AppArmor'), else None.

    Mailman rewrites the From of authors whose domains publish strict DMARC to the list's own
    address; the name is the author's, so it must not name the list address.
    """
    match = _VIA.match(name.strip()) if name else None
    return match.group("author").strip() if match else None


def classify_message(facts: MessageFacts) -> FilterReason | None:
    """Return why this message is not personal correspondence, or None when it may be."""
    if facts.list_id or facts.list_unsubscribe or facts.precedence in {"list", "bulk", "junk"}:
        return FilterReason.MAILING_LIST
    labels = {label.strip().lower() for label in facts.labels.split(",")} if facts.labels else set()
    if "spam" in labels:
        # Takeout's "All mail Including Spam and Trash" carries it: a forged From there would
        # make a relationship, or reset a contact's clock. (Providers' Spam is never synced.)
        return FilterReason.SPAM
    if labels & _CATEGORIES:
        return FilterReason.PROVIDER_CATEGORY
    local = (facts.sender or "").rpartition("@")[0]
    subject = (facts.subject or "").strip()
    if (
        facts.content_type == "multipart/report"
        or local in _BOUNCE_LOCALS
        or _BOUNCE_SUBJECT.match(subject)
    ):
        return FilterReason.BOUNCE
    if (
        facts.auto_reply_header
        or facts.auto_submitted == "auto-replied"
        or _AUTO_REPLY_SUBJECT.match(subject)
    ):
        return FilterReason.AUTO_REPLY
    if facts.sender in _CALENDAR_SENDERS or _CALENDAR_SUBJECT.match(subject):
        return FilterReason.CALENDAR_NOTIFICATION
    if (facts.auto_submitted and facts.auto_submitted != "no") or _AUTOMATED_LOCAL.match(local):
        return FilterReason.AUTOMATED
    return None
