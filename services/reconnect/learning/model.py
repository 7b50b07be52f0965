"""A logistic model over the feature row: fitted per owner, shrunk toward a shared prior.

The fit is scikit-learn's L2-regularised logistic regression (lbfgs, deterministic). The prior
enters as pseudo-examples (a data-augmentation prior): each of the owner's own rows appears
once more with the prior's predicted probability as a soft label, the pseudo-rows together
weighing `prior_weight` examples. With no history of their own the fit returns the prior;
as the owner's own examples grow they outweigh it, and the model moves from the prior toward
what this owner's past says, smoothly, never switching.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.linear_model import LogisticRegression

__all__ = ["FitRules", "LinearModel", "fit_model"]

Matrix = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class FitRules:
    """How hard the owner's own data is pulled toward the prior, and toward zero."""

    # The prior counts as this many examples. On the shared mailboxes an owner's own past
    # predicted their next months no better than the prior did (bench/README.md), so it takes
    # years of the owner's own cut-offs (an active year gives one to three thousand examples)
    # to outweigh it; the owner's answers weigh 5 to 30 examples each (examples.py).
    prior_weight: float = 10000.0
    # scikit-learn's inverse L2 strength on standardised features. The owner's fit is held by
    # the prior's pseudo-examples, so its own L2 is weak: a strong one would shrink the
    # prior's coefficients unevenly and change its order before any own example spoke.
    # (The prior itself is fitted with 0.01, bench/ranker_prior.py.)
    c: float = 1.0


@dataclass(frozen=True, slots=True)
class LinearModel:
    """logit p = intercept + sum_j coef_j * (x_j - center_j) / scale_j."""

    features: tuple[str, ...]
    center: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    examples: float = 0.0  # the weight of examples behind it (pseudo-examples included)

    def logits(self, rows: Matrix) -> Matrix:
        z = (rows - np.asarray(self.center)) / np.asarray(self.scale)
        result: Matrix = z @ np.asarray(self.coef) + self.intercept
        return result

    def probabilities(self, rows: Matrix) -> Matrix:
        result: Matrix = 1.0 / (1.0 + np.exp(-self.logits(rows)))
        return result

    def contributions(self, row: Sequence[float], reference: Sequence[float]) -> list[float]:
        """How much each feature moves this row's logit away from `reference`'s."""
        return [
            c * (x - r) / s
            for c, x, r, s in zip(self.coef, row, reference, self.scale, strict=True)
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "center": [round(v, 8) for v in self.center],
            "scale": [round(v, 8) for v in self.scale],
            "coef": [round(v, 8) for v in self.coef],
            "intercept": round(self.intercept, 8),
            "examples": round(self.examples, 2),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LinearModel:
        features = tuple(str(f) for f in data["features"])
        center = tuple(float(v) for v in data["center"])
        scale = tuple(float(v) for v in data["scale"])
        coef = tuple(float(v) for v in data["coef"])
        if not len(features) == len(center) == len(scale) == len(coef):
            raise ValueError("a model's features, center, scale and coef differ in length")
        if any(s <= 0 or not math.isfinite(s) for s in scale):
            raise ValueError("a model's scales must be positive")
        return cls(features, center, scale, coef, float(data["intercept"]), float(data["examples"]))

    def reorder(self, features: Sequence[str]) -> LinearModel:
        """The same model over `features` (in that order); features it lacks weigh nothing."""
        index = {f: i for i, f in enumerate(self.features)}

        def pick(values: tuple[float, ...], default: float) -> tuple[float, ...]:
            return tuple(values[index[f]] if f in index else default for f in features)

        return LinearModel(
            tuple(features),
            pick(self.center, 0.0),
            pick(self.scale, 1.0),
            pick(self.coef, 0.0),
            self.intercept,
            self.examples,
        )


def _standardisation(rows: Matrix, weights: Matrix) -> tuple[Matrix, Matrix]:
    total = float(weights.sum())
    center = (weights @ rows) / total
    var = (weights @ (rows - center) ** 2) / total
    scale = np.sqrt(var)
    scale[scale < 1e-6] = 1.0
    return center, scale


def fit_model(
    features: Sequence[str],
    rows: Matrix,
    labels: Sequence[int],
    weights: Sequence[float],
    prior: LinearModel | None,
    rules: FitRules,
) -> LinearModel | None:
    """The owner's model from their examples, shrunk toward `prior`.

    Returns the prior itself when there is nothing to learn from (no rows, or one class only
    and no prior to lean on), and None when there is neither.
    """
    y = np.asarray(labels, dtype=np.int64)
    w = np.asarray(weights, dtype=np.float64)
    if prior is not None:
        prior = prior.reorder(features)
    if len(y) == 0:
        return prior
    x = np.asarray(rows, dtype=np.float64)
    # One order for the same examples, whatever order they came in: lbfgs stops within its
    # tolerance at a point that depends on the order of its sums, and the order follows
    # person ids, which differ between two databases holding the same mail (`--as-of` must
    # give the same queue with or without later mail imported beside it).
    canonical = np.lexsort((w, y, *x.T[::-1]))
    x, y, w = x[canonical], y[canonical], w[canonical]
    if prior is not None:
        p = np.clip(prior.probabilities(x), 1e-6, 1 - 1e-6)
        share = rules.prior_weight / len(y)
        x = np.vstack([x, x, x])
        y = np.concatenate([y, np.ones(len(p), np.int64), np.zeros(len(p), np.int64)])
        w = np.concatenate([w, share * p, share * (1 - p)])
    elif len(set(y.tolist())) < 2:
        return None
    center, scale = _standardisation(x, w)
    z = (x - center) / scale
    fit = LogisticRegression(C=rules.c, solver="lbfgs", max_iter=5000, tol=1e-8)
    fit.fit(z, y, sample_weight=w)
    return LinearModel(
        tuple(features),
        tuple(float(v) for v in center),
        tuple(float(v) for v in scale),
        tuple(float(v) for v in fit.coef_[0]),
        float(fit.intercept_[0]),
        float(w.sum()),
    )
