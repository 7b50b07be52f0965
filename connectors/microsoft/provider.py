"""Microsoft as a provider of the sync seam: consent through msal, mail and calendar through
Graph, every request holding one of the mailbox's concurrent places and drawing on its shared
request budget."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from keepwarm.connectors.base import AccountSources, ProviderAuth, Spend

if TYPE_CHECKING:
    from keepwarm.connectors.microsoft.auth import MicrosoftAuth

__all__ = ["MicrosoftProvider"]

# msal and httpx are imported when the provider is first used, not with the registry: every
# command builds the registry, few talk to Microsoft.


@dataclass(frozen=True)
class MicrosoftProvider:
    """Outlook mail and calendar (connectors.base.Provider), with the operator's app
    registration.

    `hold(key)` holds one of the mailbox's concurrent places around a request and
    `budget(key, n)` draws n requests from its 10-minute budget, blocking until there is
    room; `key` names the mailbox. Services backs them with Redis so every worker shares them.
    """

    client_id: str
    client_secret: str | None = None
    tenant: str = "common"
    timeout: float = 30.0
    page_size: int = 250
    hold: Callable[[str], AbstractContextManager[object]] = field(default=lambda key: nullcontext())
    budget: Callable[[str, int], None] = field(default=lambda key, requests: None)
    name: str = "microsoft"
    label: str = "Microsoft"

    def client(self, api_base: str | None) -> MicrosoftAuth:
        from keepwarm.connectors.microsoft.auth import MicrosoftAuth, MicrosoftEndpoints

        endpoints = MicrosoftEndpoints.for_base(api_base) if api_base else MicrosoftEndpoints()
        return MicrosoftAuth(
            self.client_id, self.client_secret, self.tenant, endpoints, self.timeout
        )

    def auth(self, api_base: str | None) -> ProviderAuth:
        return self.client(api_base)

    def open_sources(
        self, email: str, api_base: str | None, tokens: dict[str, Any], spend: Spend
    ) -> AccountSources:
        from keepwarm.connectors.microsoft.sources import open_microsoft

        key = f"graph:{email.lower()}"

        def charge(requests: int) -> None:
            spend("mail", requests)  # the caller's part: its lease is renewed there
            self.budget(key, requests)

        @contextmanager
        def slot() -> Iterator[None]:
            with self.hold(key):
                yield

        return open_microsoft(
            self.client(api_base),
            tokens,
            owner=email,
            slot=slot,
            spend=charge,
            timeout=self.timeout,
            page_size=self.page_size,
        )
