"""Refit the ranker's shared prior (services/reconnect/learning/prior.json) from shared mail.

    python bench/ranker_prior.py [--mailboxes NAME|PATH ...] [--without NAME ...]
                                 [--homes DIR] [--out FILE]

Each mailbox is imported (`keepwarm import`, embedded mode) into DIR/<name> unless a database
is already there, and every cut-off of its whole history whose 90-day outcome is inside the
data becomes examples, exactly as the engine builds an owner's own (history_examples). Each
example weighs one, but a mailbox's together weigh at most MAILBOX_WEIGHT, so one busy owner
does not make the prior theirs. The fit is scikit-learn's L2 logistic regression over PRIOR_FEATURES
(deterministic: the same mailboxes give the same file, byte for byte).

`--without NAME` leaves mailboxes out: bench/quality.py scores every mailbox with a prior
fitted without it (leave-one-mailbox-out), never with the shipped one.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from keepwarm.services.core.db import make_engine  # noqa: E402
from keepwarm.services.models import Interaction, User  # noqa: E402
from keepwarm.services.reconnect.history import load_histories  # noqa: E402
from keepwarm.services.reconnect.learning.examples import Example, ExampleRules, history_examples  # noqa: E402
from keepwarm.services.reconnect.learning.features import FEATURES, timelines  # noqa: E402
from keepwarm.services.reconnect.learning.model import FitRules, LinearModel, fit_model  # noqa: E402
from keepwarm.services.reconnect.learning.prior import PRIOR_FILE  # noqa: E402
from keepwarm.services.reconnect.learning.signals import load_signals  # noqa: E402

DATA = REPO.parent / "shared" / "data"
OUT = REPO / "services" / "reconnect" / "learning" / PRIOR_FILE
# Chosen leave-one-mailbox-out on the shared mailboxes (bench/README.md): how recently and how
# much the owner wrote (decayed at three half-lives), silence, silence against the longest
# gap so far, distinct days of personal contact, the circle the person shares mail in, and
# whether they still appear in the owner's mail at all.
PRIOR_FEATURES = (
    "log_silence",
    "recent_30",
    "recent_90",
    "recent_365",
    "longest_gap",
    "personal_days",
    "circle",
    "seen_silence",
    "seen_90",
)
PRIOR_FIT = FitRules(prior_weight=0.0, c=0.01)
MAILBOX_WEIGHT = 1000.0  # a mailbox's examples together weigh at most this much


def shared_mailboxes() -> list[Path]:
    """Every mailbox of the shared data: enron/* and enron-more/*."""
    return sorted(
        p for folder in ("enron", "enron-more") for p in (DATA / folder).iterdir() if p.is_dir()
    )


def resolve(name: str) -> Path:
    path = Path(name)
    if path.exists():
        return path.resolve()
    for folder in ("enron", "enron-more"):
        if (DATA / folder / name).exists():
            return (DATA / folder / name).resolve()
    sys.exit(f"ranker_prior.py: no mailbox {name!r}")


def keepwarm_executable() -> str:
    beside = Path(sys.executable).with_name("keepwarm")
    return str(beside) if beside.exists() else "keepwarm"


def ensure_imported(mailbox: Path, home: Path) -> Path:
    """The mailbox's SQLite database under `home`, importing it first if needed."""
    db = home / "keepwarm.sqlite3"
    if not db.exists():
        env = dict(os.environ, KEEPWARM_HOME=str(home))
        for variable in ("DATABASE_URL", "REDIS_URL"):
            env.pop(variable, None)
        subprocess.run(
            [keepwarm_executable(), "import", str(mailbox)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
    return db


@dataclass(frozen=True)
class MailboxExamples:
    name: str
    examples: list[Example]

    @property
    def positives(self) -> int:
        return sum(e.label for e in self.examples)


def mailbox_examples(name: str, db: Path) -> MailboxExamples:
    """Every cut-off of the mailbox's history with a known outcome, as examples."""
    engine = make_engine(f"sqlite:///{db}")
    try:
        with Session(engine) as session:
            user_id = session.scalar(select(User.id).order_by(User.id))
            last = session.scalar(select(func.max(Interaction.at)))
            if user_id is None or last is None:
                return MailboxExamples(name, [])
            histories = load_histories(session, user_id, last)
            signals = load_signals(session, user_id, last)
    finally:
        engine.dispose()
    lines = timelines(histories, signals.appearances)
    # Cut back from the last interaction, not a day's end: the prior as it was fitted.
    rules = ExampleRules(max_cutoffs=10**6, whole_days=False)
    return MailboxExamples(name, history_examples(lines, last, rules))


def fit_prior(
    data: Sequence[MailboxExamples], features: Sequence[str] = PRIOR_FEATURES
) -> LinearModel:
    """One model over every mailbox's examples, a mailbox weighing at most MAILBOX_WEIGHT."""
    columns = [FEATURES.index(f) for f in features]
    rows: list[list[float]] = []
    labels: list[int] = []
    weights: list[float] = []
    for mailbox in sorted(data, key=lambda m: m.name):
        if not mailbox.positives:
            continue
        share = min(1.0, MAILBOX_WEIGHT / len(mailbox.examples))
        for e in mailbox.examples:
            rows.append([e.values[i] for i in columns])
            labels.append(e.label)
            weights.append(share)
    model = fit_model(
        features, np.asarray(rows, dtype=np.float64), labels, weights, None, PRIOR_FIT
    )
    if model is None:
        raise SystemExit("ranker_prior.py: no mailbox has examples of both outcomes")
    return model


def prior_document(model: LinearModel, data: Sequence[MailboxExamples]) -> dict[str, object]:
    used = [m for m in sorted(data, key=lambda m: m.name) if m.positives]
    return {
        "about": "keepwarm ranker prior; refit with python bench/ranker_prior.py",
        "fitted_on": {
            m.name: {"examples": len(m.examples), "came_back": m.positives} for m in used
        },
        "rules": {
            "horizon_days": ExampleRules().horizon_days,
            "step_days": ExampleRules().step_days,
        },
        "model": model.to_json(),
    }


def write_prior(path: Path, document: dict[str, object]) -> None:
    path.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def load_all(names: Sequence[str], homes: Path) -> list[MailboxExamples]:
    out: list[MailboxExamples] = []
    for name in names:
        mailbox = resolve(name)
        db = ensure_imported(mailbox, homes / mailbox.name)
        data = mailbox_examples(mailbox.name, db)
        print(
            f"  {mailbox.name:<12} {len(data.examples):>6} examples, {data.positives:>4} came back",
            flush=True,
        )
        out.append(data)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mailboxes", nargs="+", help="names or paths (default: every shared one)")
    p.add_argument("--without", nargs="*", default=[], help="leave these mailboxes out")
    p.add_argument("--homes", type=Path, help="where the imported mailboxes live (reused)")
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args(argv)
    names = args.mailboxes or [m.name for m in shared_mailboxes()]
    names = [n for n in names if Path(n).name not in set(args.without)]
    homes = args.homes or Path(tempfile.mkdtemp(prefix="kw-prior-"))
    started = datetime.now(UTC)
    print(f"ranker prior from {len(names)} mailboxes (imports under {homes})")
    data = load_all(names, homes)
    model = fit_prior(data)
    write_prior(args.out, prior_document(model, data))
    print(f"written {args.out} ({(datetime.now(UTC) - started).total_seconds():.0f} s)")
    for feature, coef in zip(model.features, model.coef, strict=True):
        print(f"  {feature:<14} {coef:+.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
