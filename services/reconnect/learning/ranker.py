"""Ranking the due people by the owner's own learned model, each with its honest reasons.

At the as-of date: examples from the owner's earlier cut-offs (outcomes known by then) and
from the owner's answers are fitted, shrunk toward the shipped prior, and every due person is
scored by the probability that the owner speaks with them again within the horizon. Nothing
after the as-of date is read: the histories, appearances and answers handed in stop there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from keepwarm.services.reconnect.history import ContactHistory
from keepwarm.services.reconnect.learning.examples import (
    ExampleRules,
    answer_examples,
    history_examples,
)
from keepwarm.services.reconnect.learning.explain import Reason, reasons
from keepwarm.services.reconnect.learning.features import (
    FEATURES,
    Snapshot,
    Timeline,
    Tracker,
    timelines,
)
from keepwarm.services.reconnect.learning.model import FitRules, LinearModel, fit_model
from keepwarm.services.reconnect.learning.prior import load_prior
from keepwarm.services.reconnect.learning.signals import OwnerSignals

__all__ = ["LearningRules", "Ranked", "fit_owner_model", "rank_due"]


@dataclass(frozen=True, slots=True)
class LearningRules:
    """The settings of the learned order."""

    floor_days: float = 91.32
    prior_path: Path | None = None  # None: the prior shipped with the package
    learn_from_answers: bool = True
    fit: FitRules = field(default_factory=FitRules)


@dataclass(frozen=True, slots=True)
class Ranked:
    """One due person's probability of being in touch again, and why it is high."""

    person_id: int
    probability: float
    reasons: tuple[Reason, ...]
    snapshot: Snapshot


def _columns(model: LinearModel) -> list[int]:
    return [FEATURES.index(f) for f in model.features]


def fit_owner_model(
    histories: Sequence[ContactHistory],
    as_of: datetime,
    rules: LearningRules,
    signals: OwnerSignals | None = None,
) -> LinearModel:
    """The owner's model as of `as_of`: their examples, shrunk toward the prior."""
    return _fit(timelines(histories, _appearances(signals)), as_of, rules, signals)


def _appearances(signals: OwnerSignals | None) -> Mapping[int, Sequence[datetime]] | None:
    return signals.appearances if signals is not None else None


def _fit(
    lines: Sequence[Timeline], as_of: datetime, rules: LearningRules, signals: OwnerSignals | None
) -> LinearModel:
    prior = load_prior(rules.prior_path)
    examples = history_examples(lines, as_of, ExampleRules(floor_days=rules.floor_days))
    if rules.learn_from_answers and signals is not None and signals.answers:
        examples += answer_examples(lines, signals.answers, as_of)
    columns = _columns(prior)
    rows = np.asarray([[e.values[i] for i in columns] for e in examples], dtype=np.float64)
    model = fit_model(
        prior.features,
        rows.reshape(len(examples), len(columns)),
        [e.label for e in examples],
        [e.weight for e in examples],
        prior,
        rules.fit,
    )
    return model if model is not None else prior


def rank_due(
    histories: Sequence[ContactHistory],
    due: Iterable[int],
    as_of: datetime,
    rules: LearningRules,
    signals: OwnerSignals | None = None,
) -> dict[int, Ranked]:
    """Every person in `due` (ids among `histories`) scored and explained, by person id."""
    wanted = set(due)
    every = timelines(histories, _appearances(signals))
    model = _fit(every, as_of, rules, signals)
    lines = [line for line in every if line.history.person_id in wanted]
    snapshots: list[Snapshot] = []
    for line in lines:
        tracker = Tracker(line)
        tracker.advance(as_of)
        snapshots.append(tracker.snapshot(as_of))
    if not snapshots:
        return {}
    columns = _columns(model)
    rows = np.asarray([[s.values[i] for i in columns] for s in snapshots], dtype=np.float64)
    # Reasons are told against the average person in today's queue.
    reference = rows.mean(axis=0)
    probabilities = model.probabilities(rows)
    return {
        line.history.person_id: Ranked(
            line.history.person_id,
            float(p),
            tuple(reasons(model, row.tolist(), reference.tolist(), snapshot)),
            snapshot,
        )
        for line, snapshot, row, p in zip(lines, snapshots, rows, probabilities, strict=True)
    }
