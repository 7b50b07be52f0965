"""The learned order of the reconnect queue: per-owner examples, a shared prior, honest reasons.

features  what is known of a contact at a moment (a row of numbers and the facts behind it)
examples  labelled rows from the owner's earlier cut-offs and from the owner's answers
model     logistic regression (scikit-learn) shrunk toward the prior
prior     the model fitted on the shared mailboxes, shipped as prior.json
signals   appearances in the owner's mail beyond interactions, and the answers, from the database
explain   why-lines from the features that actually raised a person
ranker    all of it at one as-of date
"""

from keepwarm.services.reconnect.learning.ranker import (
    LearningRules,
    Ranked,
    fit_owner_model,
    rank_due,
)
from keepwarm.services.reconnect.learning.signals import OwnerSignals, load_signals

__all__ = [
    "LearningRules",
    "OwnerSignals",
    "Ranked",
    "fit_owner_model",
    "load_signals",
    "rank_due",
]
