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
    example_contacts,
    history_examples,
)
from keepwarm.services.reconnect.learning.explain import Reason, reasons
from keepwarm.services.reconnect.learning.features import (
    FEATURES,
    FIGURES_WIDTH,
    Aggregate,
    Snapshot,
    Tracker,
    feature_rows,
    figures,
    rows_from_figures,
    snapshot_of,
    timelines,
)
from keepwarm.services.reconnect.learning.model import FitRules, LinearModel, Matrix, fit_model
from keepwarm.services.reconnect.learning.prior import load_prior
from keepwarm.services.reconnect.learning.signals import OwnerSignals

__all__ = [
    "LearningRules",
    "Ranked",
    "Scores",
    "fit_owner_model",
    "rank_aggregates",
    "rank_due",
    "score_figures",
]


@dataclass(frozen=True, slots=True)
class LearningRules:
    """The settings of the learned order."""

    floor_days: float = 91.32
    prior_path: Path | None = None  # None: the prior shipped with the package
    learn_from_answers: bool = True
    fit: FitRules = field(default_factory=FitRules)


class Ranked:
    """One due person's probability of being in touch again, and why it is high.

    The reasons are worked out when first asked for: a queue page shows a few people of
    thousands ranked, and only theirs are told."""

    __slots__ = (
        "_aggregate",
        "_at",
        "_given_row",
        "_model",
        "_reasons",
        "_reference",
        "_row",
        "person_id",
        "probability",
    )

    def __init__(
        self,
        person_id: int,
        probability: float,
        model: LinearModel,
        row: Sequence[float] | Matrix,
        reference: Sequence[float] | Matrix,
        aggregate: Aggregate,
        at: datetime,
        full_row: Sequence[float] | Matrix | None = None,
    ) -> None:
        self.person_id = person_id
        self.probability = probability
        self._model = model
        self._row = row
        self._reference = reference
        self._aggregate = aggregate
        self._at = at
        # The row over every feature at `at` (the snapshot's values), when already worked out
        # with the others scored at once: one person's alone costs as much as a whole page's.
        self._given_row = full_row
        self._reasons: tuple[Reason, ...] | None = None

    @property
    def snapshot(self) -> Snapshot:
        return snapshot_of(self._aggregate, self._at, self._full_row)

    @property
    def _full_row(self) -> Sequence[float]:
        if self._given_row is not None:
            given: list[float] = list(self._given_row)
            return given
        row: list[float] = feature_rows([self._aggregate], self._at)[0].tolist()
        return row

    @property
    def reasons(self) -> tuple[Reason, ...]:
        if self._reasons is None:
            snapshot = snapshot_of(self._aggregate, self._at, self._full_row)
            self._reasons = tuple(
                reasons(self._model, list(self._row), list(self._reference), snapshot)
            )
        return self._reasons


def _columns(model: LinearModel) -> list[int]:
    return [FEATURES.index(f) for f in model.features]


def fit_owner_model(
    histories: Sequence[ContactHistory],
    as_of: datetime,
    rules: LearningRules,
    signals: OwnerSignals | None = None,
) -> LinearModel:
    """The owner's model as of `as_of`: their examples, shrunk toward the prior.

    It depends on `as_of` only through the day of its latest training cut-off (whole UTC
    days, examples.training_cutoffs) and the answers given by then, so a model fitted once
    serves every moment of that day until the data or the answers change (store.py)."""
    return _fit(histories, as_of, rules, signals)


def _appearances(signals: OwnerSignals | None) -> Mapping[int, Sequence[datetime]] | None:
    return signals.appearances if signals is not None else None


def _fit(
    histories: Sequence[ContactHistory],
    as_of: datetime,
    rules: LearningRules,
    signals: OwnerSignals | None,
) -> LinearModel:
    prior = load_prior(rules.prior_path)
    example_rules = ExampleRules(floor_days=rules.floor_days)
    answers = (
        tuple(signals.answers)
        if rules.learn_from_answers and signals is not None and signals.answers
        else ()
    )
    chosen, weight = example_contacts(histories, as_of, example_rules)
    wanted = chosen | {a.person_id for a in answers}
    lines = timelines(histories, _appearances(signals), only=wanted)
    examples = history_examples(
        [line for line in lines if line.history.person_id in chosen],
        as_of,
        example_rules,
        weight=weight,
        owner_histories=histories,
    )
    if answers:
        examples += answer_examples(lines, answers, as_of)
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


@dataclass(frozen=True, slots=True)
class Scores:
    """The due people's probabilities under the owner's model at one moment, and what their
    why-lines are told against (the average person of the queue)."""

    model: LinearModel
    at: datetime
    ids: tuple[int, ...]  # ascending
    rows: Matrix  # over model.features, one per id
    reference: Matrix
    probabilities: Matrix
    full_rows: Matrix  # over every feature (features.FEATURES), one per id

    def ranked(self, index: int, aggregate: Aggregate) -> Ranked:
        """The person at `index` (in `ids`), their aggregate given for the why-line."""
        return Ranked(
            self.ids[index],
            float(self.probabilities[index]),
            self.model,
            self.rows[index],
            self.reference,
            aggregate,
            self.at,
            self.full_rows[index],
        )


def score_figures(
    model: LinearModel, ids: Sequence[int], matrix: Matrix, as_of: datetime
) -> Scores:
    """Score contacts given as rows of `features.figures` (ids ascending, one row each):
    the same numbers whether the rows come from the history or from the store."""
    if list(ids) != sorted(ids):
        raise ValueError("ids must ascend: the queue's average is summed in that order")
    full = rows_from_figures(matrix, as_of)
    rows = full[:, _columns(model)]
    # Reasons are told against the average person in today's queue.
    reference = rows.mean(axis=0) if len(ids) else np.zeros(len(model.features))
    return Scores(model, as_of, tuple(ids), rows, reference, model.probabilities(rows), full)


def rank_aggregates(
    model: LinearModel, aggregates: Mapping[int, Aggregate], as_of: datetime
) -> dict[int, Ranked]:
    """The due people (by person id, each described by its running totals) scored by `model`
    at `as_of`."""
    if not aggregates:
        return {}
    ids = sorted(aggregates)
    matrix = np.asarray([figures(aggregates[i]) for i in ids], dtype=np.float64)
    scores = score_figures(model, ids, matrix.reshape(len(ids), FIGURES_WIDTH), as_of)
    return {pid: scores.ranked(i, aggregates[pid]) for i, pid in enumerate(ids)}


def rank_due(
    histories: Sequence[ContactHistory],
    due: Iterable[int],
    as_of: datetime,
    rules: LearningRules,
    signals: OwnerSignals | None = None,
    model: LinearModel | None = None,
) -> dict[int, Ranked]:
    """Every person in `due` (ids among `histories`) scored and explained, by person id.

    `model` is the owner's model as of `as_of` when already at hand (fitted otherwise)."""
    wanted = set(due)
    if model is None:
        model = _fit(histories, as_of, rules, signals)
    aggregates: dict[int, Aggregate] = {}
    for line in timelines(histories, _appearances(signals), only=wanted):
        tracker = Tracker(line)
        tracker.advance(as_of)
        if tracker.last_at is not None:
            aggregates[line.history.person_id] = tracker.aggregate()
    return rank_aggregates(model, aggregates, as_of)
