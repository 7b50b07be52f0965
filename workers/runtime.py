"""What an entry point builds once and hands to the actors: settings, database, rules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from connectors.google import CalendarReader, GmailReader, GoogleClient, GoogleEndpoints
from connectors.google.auth import GrantedTokens
from services.config import Settings
from services.crypto import TokenCipher, TokenKeyError
from services.db import make_engine, make_session_factory, migrate
from services.derivation import DerivationRules
from services.lifecycle import LifecycleRules
from services.models import Account
from services.reconnect import QueueRules
from services.sync import Sources
from workers.locks import AccountLocks, LocalLocks, RedisLocks
from workers.throttle import LocalQuota, Quota, RedisQuota

__all__ = ["Runtime", "build_runtime"]


@dataclass(frozen=True)
class Runtime:
    """The process-wide collaborators, passed explicitly; nothing below reads the environment."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    quota: Quota
    locks: AccountLocks

    def cipher(self) -> TokenCipher:
        """The token cipher; raises TokenKeyError when no key is configured."""
        key = self.settings.token_key
        if key is None:
            raise TokenKeyError(
                "set KEEPWARM_TOKEN_KEY to a Fernet key to store OAuth tokens "
                "(python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())')"
            )
        return TokenCipher(key.get_secret_value())

    def google_client(self, api_base: str | None) -> GoogleClient:
        endpoints = GoogleEndpoints.for_base(api_base) if api_base else GoogleEndpoints()
        return GoogleClient(
            self.settings.google_client_id,
            self.settings.google_client_secret.get_secret_value(),
            endpoints,
        )

    def open_sources(
        self, account: Account, tokens: dict[str, Any], on_call: Callable[[], None] = lambda: None
    ) -> Sources:
        """Google readers for `account`, spending from the shared per-user quota.

        `on_call` runs before every provider call (the sync actor renews its lease there).
        """
        client = self.google_client(account.api_base)
        creds = client.credentials(GrantedTokens.from_json(tokens))
        key = f"google:{account.email}"

        def spend(units: int) -> None:
            on_call()
            self.quota.spend(key, units)

        def calendar_spend(units: int) -> None:
            on_call()
            self.quota.spend(key + ":calendar", units)

        mail = GmailReader(creds, api_base=account.api_base, spend=spend)
        calendar = CalendarReader(creds, api_base=account.api_base, spend=calendar_spend)

        def close() -> None:
            mail.close()
            calendar.close()

        return Sources(mail, calendar, lambda: client.current_tokens(creds).to_json(), close)

    @property
    def derivation_rules(self) -> DerivationRules:
        return DerivationRules(
            bulk_recipients=self.settings.bulk_recipients,
            large_meeting_attendees=self.settings.large_meeting_attendees,
        )

    @property
    def lifecycle_rules(self) -> LifecycleRules:
        return LifecycleRules(cooldown_days=self.settings.cooldown_days)

    @property
    def queue_rules(self) -> QueueRules:
        return QueueRules(floor_months=self.settings.floor_months)

    def close(self) -> None:
        self.engine.dispose()


def build_runtime(settings: Settings) -> Runtime:
    """Connect to the configured database and bring its schema up to date.

    Production (DATABASE_URL set) refuses to start without KEEPWARM_TOKEN_KEY: tokens must
    never be stored unencrypted, and a key made up on the spot would lose them on restart.
    """
    if not settings.embedded and settings.token_key is None:
        raise TokenKeyError("production mode (DATABASE_URL set) needs KEEPWARM_TOKEN_KEY")
    if settings.token_key is not None:
        TokenCipher(settings.token_key.get_secret_value())  # a malformed key fails now
    engine = make_engine(settings.sqlalchemy_url())
    migrate(engine)
    quota: Quota
    locks: AccountLocks
    if settings.redis_url is not None:
        client = redis.Redis.from_url(settings.redis_url.get_secret_value())
        quota = RedisQuota(client, settings.gmail_units_per_second, settings.queue_namespace)
        locks = RedisLocks(client, settings.queue_namespace)
    else:
        quota, locks = LocalQuota(settings.gmail_units_per_second), LocalLocks()
    return Runtime(settings, engine, make_session_factory(engine), quota, locks)
