"""Replay: a simulated owner answers each week's digest; does the queue learn from it?

Run by `python bench/quality.py --replay`. For each mailbox, every week W (the weeks that pass
the same data rules as the cut-offs) the queue as of W is read, in-process through the same
code as `keepwarm suggestions` (reconnect.views.suggestions), on a private copy of the mailbox's
database. The owner then answers the digest (its first DIGEST people) from what really
happened next: "done" for those they wrote to or met in the 90 days after W, "snooze 1 month"
for those they did speak with again but later, "stop" for those never again in the data. The
answers are stored as `keepwarm done|snooze|stop --on W` would store them.

Three arms, each on its own copy:
- none: nobody answers (the plain engine, week by week);
- answers, lifecycle only: answers are stored and act as they always did (stopped people leave
  the queue, snoozed ones rest, done ones cool down), but the model does not learn from them
  (KEEPWARM_LEARN_FROM_ANSWERS=0);
- answers + learning: the same, and the answers are examples in the owner's fit.
The learning effect is the third against the second; the first shows what answering does at
all. Precision is P@k of the whole queue each week against the owner truth in the 90 days
after it, averaged over the later half of the weeks (the first half is when answers pile up).
"""

from __future__ import annotations

import shutil
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from keepwarm.services.core.db import make_engine
from keepwarm.services.models import Action, Interaction, User
from keepwarm.services.reconnect import QueueRules, views
from keepwarm.services.reconnect.lifecycle import LifecycleRules, record_person_action

DIGEST = 6
SNOOZE_DAYS = 30
ARMS = {
    "none": "nobody answers",
    "lifecycle": "answers, lifecycle only (model does not learn from them)",
    "learning": "answers + learning",
}


@dataclass
class Week:
    day: date
    p5: float
    p10: float
    shown: list[int] = field(default_factory=list)  # the digest's people
    shown_hits: list[int] = field(default_factory=list)  # of them, in touch within 90 days
    answered: dict[str, int] = field(default_factory=dict)


def end_of_day(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC) - timedelta(
        microseconds=1
    )


def _owner_times(session: Session, user_id: int) -> dict[int, list[datetime]]:
    times: dict[int, list[datetime]] = defaultdict(list)
    for person_id, at in session.execute(
        select(Interaction.person_id, Interaction.at)
        .where(Interaction.user_id == user_id, Interaction.kind.in_(("sent", "met")))
        .order_by(Interaction.at)
    ):
        times[person_id].append(at)
    return times


def run_arm(
    db: Path,
    weeks: Sequence[date],
    arm: str,
    prior: Path | None,
    floor_months: float,
    horizon_days: int,
) -> list[Week]:
    """One arm over the weeks, on a private copy of the database at `db`."""
    folder = Path(tempfile.mkdtemp(prefix=f"kw-replay-{arm}-"))
    try:
        copy = folder / "keepwarm.sqlite3"
        shutil.copyfile(db, copy)
        engine = make_engine(f"sqlite:///{copy}")
        rules = QueueRules(
            floor_months=floor_months, ranker_prior=prior, learn_from_answers=arm == "learning"
        )
        lifecycle = LifecycleRules()
        horizon = timedelta(days=horizon_days)
        out: list[Week] = []
        with Session(engine) as session:
            user_id = session.scalar(select(User.id).order_by(User.id))
            assert user_id is not None
            truth_times = _owner_times(session, user_id)  # before any answer is stored
            for day in weeks:
                cut = end_of_day(day)
                queue = views.suggestions(session, user_id, cut, rules, None, lifecycle=lifecycle)
                order = [s.stats.history.person_id for s in queue]

                def came_back(pid: int, until: datetime | None, cut: datetime = cut) -> bool:
                    return any(cut < t and (until is None or t <= until) for t in truth_times[pid])

                hits = {pid for pid in order[:10] if came_back(pid, cut + horizon)}
                week = Week(
                    day,
                    sum(1 for pid in order[:5] if pid in hits) / 5,
                    sum(1 for pid in order[:10] if pid in hits) / 10,
                    order[:DIGEST],
                    [pid for pid in order[:DIGEST] if pid in hits],
                )
                if arm != "none":
                    for pid in order[:DIGEST]:
                        if pid in hits:
                            action, until = Action.DONE, None
                        elif came_back(pid, None):
                            action, until = Action.SNOOZE, cut + timedelta(days=SNOOZE_DAYS)
                        else:
                            action, until = Action.STOP, None
                        record_person_action(session, user_id, pid, action, cut, until)
                        week.answered[action.value] = week.answered.get(action.value, 0) + 1
                    session.commit()
                out.append(week)
        engine.dispose()
        return out
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def replay(
    mailboxes: dict[str, tuple[Path, list[date], Path | None]],
    floor_months: float,
    horizon_days: int,
    jobs: int,
) -> dict[str, dict[str, list[Week]]]:
    """Every arm of every mailbox: {mailbox: {arm: weeks}}; mailboxes map to (db, weeks, prior)."""
    with ProcessPoolExecutor(max_workers=max(jobs, 1)) as pool:
        futures = {
            (name, arm): pool.submit(run_arm, db, weeks, arm, prior, floor_months, horizon_days)
            for name, (db, weeks, prior) in mailboxes.items()
            for arm in ARMS
        }
        out: dict[str, dict[str, list[Week]]] = defaultdict(dict)
        for (name, arm), future in futures.items():
            out[name][arm] = future.result()
    return dict(out)


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def summarize(result: dict[str, dict[str, list[Week]]]) -> dict[str, Any]:
    """Per mailbox and arm: mean P@5 and P@10 over all weeks, the first and the later half."""
    out: dict[str, Any] = {}
    for name, arms in result.items():
        out[name] = {}
        for arm, weeks in arms.items():
            half = len(weeks) // 2
            later = weeks[half:]
            answered: dict[str, int] = defaultdict(int)
            for w in weeks:
                for action, n in w.answered.items():
                    answered[action] += n
            out[name][arm] = {
                "weeks": len(weeks),
                # Over the whole replay: different people the digests showed, and of them the
                # ones shown in a week after which the owner was in touch within 90 days.
                "people_shown": len({p for w in weeks for p in w.shown}),
                "reconnections_shown": len({p for w in weeks for p in w.shown_hits}),
                "later_weeks": len(later),
                "p@5": _mean([w.p5 for w in weeks]),
                "p@10": _mean([w.p10 for w in weeks]),
                "later p@5": _mean([w.p5 for w in later]),
                "later p@10": _mean([w.p10 for w in later]),
                "answers": dict(answered),
            }
    return out


def report(summary: dict[str, Any]) -> list[str]:
    lines = [
        "",
        "replay: a simulated owner answers each week's digest (done / snooze 1 month / stop "
        "from what happened next); P@k of the whole queue each week, owner truth",
        f"  {'mailbox':<11} {'weeks':>5} | "
        + " | ".join(f"{arm:>26}" for arm in ARMS)
        + " | learning effect (later P@10)",
        f"  {'':<11} {'':>5} | "
        + " | ".join(f"{'P@5 / P@10 later; found':>26}" for _ in ARMS)
        + " |",
    ]
    for name, arms in summary.items():
        cells = " | ".join(
            f"{arms[a]['later p@5']:>9.3f} / {arms[a]['later p@10']:.3f}; "
            f"{arms[a]['reconnections_shown']:>3}/{arms[a]['people_shown']:<3}"
            for a in ARMS
        )
        effect = arms["learning"]["later p@10"] - arms["lifecycle"]["later p@10"]
        lines.append(f"  {name:<11} {arms['none']['weeks']:>5} | {cells} | {effect:+.3f}")
    return lines


def markdown(summary: dict[str, Any]) -> str:
    lines = [
        "| mailbox | weeks (later half) | no answers: P@5 / P@10; reconnections / people "
        "shown | answers, lifecycle only | answers + learning | learning effect on P@10 "
        "| answers given (learning arm) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, arms in summary.items():
        cells = " | ".join(
            f"{arms[a]['later p@5']:.3f} / {arms[a]['later p@10']:.3f}; "
            f"{arms[a]['reconnections_shown']} / {arms[a]['people_shown']}"
            for a in ARMS
        )
        effect = arms["learning"]["later p@10"] - arms["lifecycle"]["later p@10"]
        given = ", ".join(f"{n} {a}" for a, n in sorted(arms["learning"]["answers"].items()))
        lines.append(
            f"| {name} | {arms['none']['weeks']} ({arms['none']['later_weeks']}) | {cells} "
            f"| {effect:+.3f} | {given} |"
        )
    return "\n".join(lines)
