"""The providers this installation offers, by name.

`connect`, `accounts`, `sync` and `disconnect` look a provider up by the name stored on each
account, so a new provider is a connector (connectors.base.Provider) and one entry here.
"""

from __future__ import annotations

from collections.abc import Mapping

from keepwarm.connectors.base import Provider
from keepwarm.connectors.google.provider import GoogleProvider
from keepwarm.services.core.config import Settings
from keepwarm.services.core.errors import InvalidInput

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


def build_providers(settings: Settings) -> ProviderRegistry:
    """Every provider, configured from the operator's settings."""
    google = GoogleProvider(
        settings.google_client_id,
        settings.google_client_secret.get_secret_value(),
        timeout=settings.google_timeout_seconds,
    )
    return ProviderRegistry({google.name: google})
