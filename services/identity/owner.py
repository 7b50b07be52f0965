"""Working out who the owner is from their own mail when they have not said."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from keepwarm.services.models import Event, Message, MessageRecipient

__all__ = ["infer_owner_addresses", "name_tokens"]

_SPLIT = re.compile(r"[^a-z]+")


def name_tokens(text: str | None) -> set[str]:
    """The name-like words of an address's local part or a display name ('w..delainey')."""
    if not text:
        return set()
    return {t for t in _SPLIT.split(text.lower()) if len(t) >= 3}


def infer_owner_addresses(session: Session, user_id: int) -> list[str]:
    """Return the addresses the user's sent mail comes from, most used first.

    Sent folders (maildir/Enron `sent`, `_sent_mail`, `sent_items`; Takeout's Sent label) hold
    what the owner wrote, but also what an assistant sent on their behalf (in delainey-d's
    sent folders 10% of the mail is his assistant's). So the owner is the dominant sender, plus
    the other senders whose address shares a name with it (`w..delainey` beside
    `david.delainey`). Failing sent mail, a calendar exported under the owner's address says
    who the owner is. Returns [] when nothing tells.

    When an assistant sends most of the sent mail (skilling-j: two assistants wrote most of
    it), the dominant sender is the assistant; the owner is the sent-folder sender the rest of
    the mailbox is addressed to. So a sender's weight is their sent mail plus the mail outside
    the sent folders addressed to them.
    """
    counts = session.execute(
        select(Message.sender, func.count(), func.max(Message.sender_name))
        .where(
            Message.user_id == user_id,
            Message.in_sent_folder.is_(True),
            Message.sender.is_not(None),
        )
        .group_by(Message.sender)
        .order_by(func.count().desc(), Message.sender)
    ).all()
    if counts:
        addressed = dict(
            session.execute(
                select(MessageRecipient.address, func.count())
                .join(Message, Message.id == MessageRecipient.message_id)
                .where(
                    Message.user_id == user_id,
                    Message.in_sent_folder.is_(False),
                    MessageRecipient.role.in_(("to", "cc")),
                    MessageRecipient.address.in_([str(a) for a, _, _ in counts]),
                )
                .group_by(MessageRecipient.address)
            ).all()
        )
        counts = sorted(counts, key=lambda r: (-(r[1] + addressed.get(str(r[0]), 0)), str(r[0])))
        dominant, _top, top_name = counts[0]
        tokens = name_tokens(str(dominant).partition("@")[0]) | name_tokens(top_name)
        owner = [str(dominant)]
        for address, n, _ in counts[1:]:
            local = str(address).partition("@")[0]
            if n >= 2 and name_tokens(local) & tokens:
                owner.append(str(address))
        return owner
    owners = session.scalars(
        select(Event.calendar_owner)
        .where(Event.user_id == user_id, Event.calendar_owner.is_not(None))
        .distinct()
    ).all()
    return [str(a) for a in owners if a]
