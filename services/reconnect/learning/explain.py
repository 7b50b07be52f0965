"""Why-lines that say what actually raised a person in the model, and nothing else.

Each feature's contribution is its coefficient times how far this person's value lies from
the average of everyone in the queue (model.LinearModel.contributions). Features that tell one
story are read together (the three decayed volumes are one "how much you wrote"), and the
stories that raised the person most, with a positive total, are told in the person's own
figures. A feature the model does not use has no coefficient and is never told.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from keepwarm.services.reconnect.learning.features import Snapshot
from keepwarm.services.reconnect.learning.model import LinearModel

__all__ = ["MAX_REASONS", "STORIES", "Reason", "reasons"]

MAX_REASONS = 3
DAYS_PER_MONTH = 30.44


def _span(days: float) -> str:
    if days < 14:
        return _plural(max(round(days), 1), "day")
    if days < 60:
        return _plural(round(days / 7), "week")
    if days < 730:
        return _plural(round(days / DAYS_PER_MONTH), "month")
    return _plural(round(days / 365.25), "year")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _times(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


def _history(s: Snapshot, above: bool) -> str:
    span = (s.last_at - s.first_at).total_seconds() / 86400
    over = f" over {_span(span)}" if span >= 1 else ", all on one day"
    if s.sent:
        return f"you wrote {_times(s.sent)}{over}"
    if s.meetings:
        return f"{_plural(s.meetings, 'meeting')}{over}"
    return f"in touch{over}"


def _personal(s: Snapshot, above: bool) -> str:
    days = f"one-to-one or in a small group on {_plural(s.personal_days, 'day')}"
    return days + (", mostly one-to-one" if s.one_to_one_share >= 0.5 else "")


def _both_ways(s: Snapshot, above: bool) -> str:
    parts = []
    if s.received:
        parts.append(f"they wrote {_times(s.received)}")
    if s.replies:
        parts.append(f"you replied {_times(s.replies)}")
    return ", ".join(parts) or "mail only one way"


def _meetings(s: Snapshot, above: bool) -> str:
    return _plural(s.meetings, "meeting") if s.meetings else "no meetings"


def _silence(s: Snapshot, above: bool) -> str:
    text = f"silent {_span(s.silence_days)}"
    if s.typical_gap_days:
        ratio = s.silence_days / max(s.typical_gap_days, 1.0)
        if ratio >= 1.5:
            text += f", {_ratio(ratio)} your usual gap"
    return text + ("" if above else ", less than most")


def _ratio(ratio: float) -> str:
    if ratio < 2.5:
        return "twice"
    if ratio < 3.5:
        return "three times"
    return f"{ratio:.0f}x"


def _longest_gap(s: Snapshot, above: bool) -> str:
    # Raised by this story: silent for less, against their longest quiet spell, than most.
    if s.longest_gap_days >= s.silence_days:
        return f"was quiet for {_span(s.longest_gap_days)} before and came back"
    return f"came back after {_span(s.longest_gap_days)} of quiet before"


def _circle(s: Snapshot, above: bool) -> str:
    if above:
        if s.circle == 1:
            return "written to with one other person you write to"
        return f"in a circle of {s.circle} others you write to"
    return "mostly written to on their own" if s.circle else "written to on their own"


def _seen(s: Snapshot, above: bool) -> str:
    if s.seen_90_days:
        return f"still around: on {_plural(s.seen_90_days, 'message')} in the last 3 months"
    seen = s.last_seen_at or s.last_at
    if seen > s.last_at:
        return f"still around: last seen in your mail {seen:%Y-%m-%d}"
    return f"last seen in your mail {seen:%Y-%m-%d}"


def _wrote_last(s: Snapshot, above: bool) -> str:
    return "you wrote last" if above else "they wrote last"


# story -> (the features it reads, how it is told)
STORIES: dict[str, tuple[tuple[str, ...], Callable[[Snapshot, bool], str]]] = {
    "history": (
        ("recent_30", "recent_90", "recent_365", "sent", "duration", "group_days"),
        _history,
    ),
    "personal": (("personal_days", "one_to_one", "group_size"), _personal),
    "both_ways": (("received", "both_ways", "replies"), _both_ways),
    "meetings": (("meetings",), _meetings),
    "silence": (("log_silence", "overdue", "no_cadence"), _silence),
    "longest_gap": (("longest_gap",), _longest_gap),
    "circle": (("circle",), _circle),
    "seen": (("seen_silence", "seen_30", "seen_90", "seen_365"), _seen),
    "wrote_last": (("wrote_last",), _wrote_last),
}


@dataclass(frozen=True, slots=True)
class Reason:
    """One story that moved a person's score, by how much (in log-odds), and its words."""

    story: str
    weight: float
    text: str


def reasons(
    model: LinearModel,
    row: Sequence[float],
    reference: Sequence[float],
    snapshot: Snapshot,
    limit: int = MAX_REASONS,
) -> list[Reason]:
    """The stories that raised this person most above the queue's average, strongest first.

    `row` and `reference` are over `model.features`. Only stories made of features the model
    uses with a non-zero weight are told, and only when their contributions add up positive.
    """
    contributions = dict(zip(model.features, model.contributions(row, reference), strict=True))
    weights = dict(zip(model.features, model.coef, strict=True))
    out: list[Reason] = []
    for story, (features, tell) in STORIES.items():
        used = [f for f in features if f in contributions and weights[f] != 0.0]
        if not used:
            continue
        total = sum(contributions[f] for f in used)
        if total <= 1e-9:
            continue
        # Which way the leading feature sits against the queue's average.
        lead = max(used, key=lambda f: abs(contributions[f]))
        index = model.features.index(lead)
        above = row[index] >= reference[index]
        out.append(Reason(story, total, tell(snapshot, above)))
    out.sort(key=lambda r: (-r.weight, r.story))
    return out[:limit]
