"""The providers this installation offers, by name.

`connect`, `accounts`, `sync` and `disconnect` look a provider up by the name stored on each
account, so a new provider is a connector (connectors.base.Provider) and one entry here.
"""

from __future__ import annotations

from collections.abc import Mapping

from keepwarm.connectors.base import Provider
from keepwarm.connectors.google.provider import GoogleProvider
from keepwarm.connectors.microsoft.provider import MicrosoftProvider
from keepwarm.services.core.config import Settings
from keepwarm.services.core.errors import InvalidInput
from keepwarm.services.core.quota import LocalQuota, Quota
from keepwarm.services.core.slots import LocalSlots, Slots

__all__ = ["ProviderRegistry", "build_providers"]


class ProviderRegistry:
    """The providers this installation offers."""

    def __init__(self, providers: Mapping[str, Provider]) -> None:
        self._providers = dict(providers)

    def names(self) -> list[str]:
        return sorted(self._providers)

    def get(self, name: str) -> Provider:
        """The provider called `name`; raises InvalidInput naming the ones there are."""
        try:
            return self._providers[name]
        except KeyError:
            known = ", ".join(self.names())
            raise InvalidInput(f"unknown provider {name!r} (one of: {known})") from None


def build_providers(
    settings: Settings, *, graph_slots: Slots | None = None, graph_budget: Quota | None = None
) -> ProviderRegistry:
    """Every provider, configured from the operator's settings.

    `graph_slots` and `graph_budget` are Outlook's concurrent places and 10-minute request
    budget per mailbox, shared by every worker (Redis); by default this process's own.
    """
    google = GoogleProvider(
        settings.google_client_id,
        settings.google_client_secret.get_secret_value(),
        timeout=settings.google_timeout_seconds,
    )
    slots = graph_slots or LocalSlots(settings.graph_concurrent_requests)
    budget = graph_budget or LocalQuota(settings.graph_requests_per_10_minutes, window=600.0)
    secret = settings.microsoft_client_secret
    microsoft = MicrosoftProvider(
        settings.microsoft_client_id,
        secret.get_secret_value() if secret is not None else None,
        tenant=settings.microsoft_tenant,
        timeout=settings.microsoft_timeout_seconds,
        hold=slots.hold,
        budget=budget.spend,
    )
    return ProviderRegistry({google.name: google, microsoft.name: microsoft})
