"""The reconnect queue: who has gone quiet for longer than is usual for them, and why."""

from keepwarm.services.reconnect.engine import QueueRules, Suggestion, rank_suggestions
from keepwarm.services.reconnect.history import ContactHistory, InteractionPoint, load_histories
from keepwarm.services.reconnect.stats import ContactStats, compute_stats

__all__ = [
    "ContactHistory",
    "ContactStats",
    "InteractionPoint",
    "QueueRules",
    "Suggestion",
    "compute_stats",
    "load_histories",
    "rank_suggestions",
]
