"""The shared prior: a model fitted on the shared mailboxes and shipped with the package.

An owner whose history is too short to teach anything gets this model; as their history grows
it becomes the centre their own fit is shrunk toward (model.py). `bench/ranker_prior.py`
refits it from the shared mailboxes and writes `prior.json` beside this module; a different
file can be chosen with KEEPWARM_RANKER_PRIOR (the quality bench uses that to score each
mailbox with a prior fitted without it).
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path

from keepwarm.services.reconnect.learning.features import FEATURES
from keepwarm.services.reconnect.learning.model import LinearModel

__all__ = ["PRIOR_FILE", "load_prior"]

PRIOR_FILE = "prior.json"


@lru_cache(maxsize=8)
def _load(path: str | None) -> LinearModel:
    if path is None:
        text = resources.files(__package__).joinpath(PRIOR_FILE).read_text(encoding="utf-8")
        where = f"the packaged {PRIOR_FILE}"
    else:
        text = Path(path).read_text(encoding="utf-8")
        where = path
    try:
        data = json.loads(text)
        model = LinearModel.from_json(data["model"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{where}: not a ranker prior ({exc})") from None
    unknown = [f for f in model.features if f not in FEATURES]
    if unknown:
        raise ValueError(f"{where}: unknown features {', '.join(unknown)}")
    return model


def load_prior(path: Path | str | None = None) -> LinearModel:
    """The prior from `path`, or the one shipped with the package. Raises ValueError."""
    return _load(None if path is None else str(path))
