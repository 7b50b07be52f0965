"""Per-contact statistics: counts, learned cadence and tie strength.

Strength follows the tie-strength research: recency and duration carry most weight (Gilbert &
Karahalios, CHI 2009), distinct days of contact beat raw counts (Ureña-Carrion et al., EPJ Data
Science 2020), replies both ways make a tie stronger, and small recipient lists and small
meetings count most (Karagiannis & Vojnović, WWW 2009). Recency is left to the queue's
"overdue" factor, since it is what the queue is about.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from datetime import date, datetime

from keepwarm.services.reconnect.history import ContactHistory

__all__ = ["ContactStats", "compute_stats"]

# A learned cadence needs at least this many gaps between distinct days of contact.
MIN_GAPS_FOR_CADENCE = 2
# At most this many people in a mail or meeting for it to count as personal contact.
SMALL_GROUP = 3
# A tie whose history spans this long is more than a burst.
SUSTAINED_DAYS = 60.0


@dataclass(frozen=True, slots=True)
class ContactStats:
    """What the engine knows about one contact as of a date."""

    history: ContactHistory
    first_at: datetime
    last_at: datetime
    emails_sent: int
    emails_received: int
    meetings: int
    talked_elsewhere: int
    distinct_days: int
    typical_gap_days: float | None
    last_subject: str | None
    last_subject_at: datetime | None
    strength: float

    @property
    def is_relationship(self) -> bool:
        """The owner personally wrote to, met or talked with them; inbound-only mail is not one."""
        return self.emails_sent > 0 or self.meetings > 0 or self.talked_elsewhere > 0


def _percentile(values: list[float], q: float) -> float:
    return percentile_sorted(sorted(values), q)


def percentile_sorted(ordered: list[float], q: float) -> float:
    """The q-quantile (linear interpolation) of values already in ascending order."""
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _typical_gap(days: list[date]) -> float | None:
    gaps = [float((b - a).days) for a, b in itertools.pairwise(days)]
    if len(gaps) < MIN_GAPS_FOR_CADENCE:
        return None
    # The 80th percentile: silence longer than four in five of their past gaps is unusual.
    return _percentile(gaps, 0.8)


def compute_stats(history: ContactHistory) -> ContactStats:
    """Summarise one contact's history (which must not be empty)."""
    points = history.points
    sent = [p for p in points if p.kind == "sent"]
    received = [p for p in points if p.kind == "received"]
    met = [p for p in points if p.kind == "met"]
    elsewhere = [p for p in points if p.kind == "elsewhere"]
    days = sorted({p.at.date() for p in points})
    # Days in touch one-to-one or in a small group carry the tie; a weekly mail to the same
    # nine people adds a day to each of them but says little about any one tie.
    personal_days = {p.at.date() for p in points if p.group_size <= SMALL_GROUP}
    group_days = set(days) - personal_days
    with_subject = [p for p in points if p.subject]
    # Writing to one person counts fully; to ten, a third as much (1/sqrt(n)).
    personal_sent = sum(1 / math.sqrt(max(p.group_size, 1)) for p in sent)
    personal_met = sum(1 / math.sqrt(max(p.group_size, 1)) for p in met)
    duration_days = (points[-1].at - points[0].at).total_seconds() / 86400
    # Received mail is the part of a mailbox most often lost, so both directions add a little
    # but its absence costs little.
    reciprocity = 1.0 if sent and received else 0.0
    # The owner answering them is the clearest sign the owner cares to keep up.
    replies = sum(1 for p in sent if p.subject and p.subject.lower().startswith("re:"))
    strength = (
        1.0 * math.log1p(personal_sent)
        + 0.5 * math.log1p(len(received))
        + 1.2 * math.log1p(personal_met + len(elsewhere))
        + 1.0 * math.log1p(len(personal_days))
        + 0.3 * math.log1p(len(group_days))
        + 0.6 * math.log1p(duration_days / 30)
        + 0.4 * reciprocity
        + 0.4 * math.log1p(replies)
    )
    # A burst (a few weeks of mail about one deal) that ended is usually a finished matter,
    # not a tie to keep warm: half weight below two months of history, full weight from there.
    strength *= 0.5 + 0.5 * min(duration_days / SUSTAINED_DAYS, 1.0)
    return ContactStats(
        history=history,
        first_at=points[0].at,
        last_at=points[-1].at,
        emails_sent=len(sent),
        emails_received=len(received),
        meetings=len(met),
        talked_elsewhere=len(elsewhere),
        distinct_days=len(days),
        typical_gap_days=_typical_gap(days),
        last_subject=with_subject[-1].subject if with_subject else None,
        last_subject_at=with_subject[-1].at if with_subject else None,
        strength=round(strength, 4),
    )
