"""What an entry point builds once and hands to the actors: settings, database, rules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from keepwarm.connectors.base import AccountSources
from keepwarm.services.accounts.providers import ProviderRegistry, build_providers
from keepwarm.services.core.clock import Clock, system_clock
from keepwarm.services.core.config import Settings
from keepwarm.services.core.crypto import TokenCipher, TokenKeyError
from keepwarm.services.core.db import make_engine, make_session_factory, migrate
from keepwarm.services.core.errors import InvalidInput
from keepwarm.services.core.keys import check_secret, check_token_key, home_secret, home_token_key
from keepwarm.services.core.locks import AccountLocks, LocalLocks, RedisLocks
from keepwarm.services.core.private import private_dir, private_file
from keepwarm.services.core.quota import LocalQuota, Quota, RedisQuota
from keepwarm.services.core.slots import RedisSlots
from keepwarm.services.mail.derivation import DerivationRules
from keepwarm.services.models import Account
from keepwarm.services.notify.digest import DigestRules
from keepwarm.services.notify.links import LinkSigner
from keepwarm.services.notify.mailer import FileTransport, MailTransport, SmtpTransport
from keepwarm.services.notify.outbox import OutboxRules
from keepwarm.services.notify.plan import NotifyRules
from keepwarm.services.notify.prompts import PromptRules
from keepwarm.services.reconnect import QueueRules
from keepwarm.services.reconnect.lifecycle import LifecycleRules

__all__ = ["Runtime", "build_runtime", "check_settings"]


@dataclass(frozen=True)
class Runtime:
    """The process-wide collaborators, passed explicitly; nothing below reads the environment."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    quota: Quota
    locks: AccountLocks
    providers: ProviderRegistry
    # What "now" is for the digest and prompt machinery; tests run a week in seconds with it.
    clock: Clock = system_clock

    def cipher(self) -> TokenCipher:
        """The token cipher: KEEPWARM_TOKEN_KEY, or embedded, a key kept in KEEPWARM_HOME.

        Raises TokenKeyError when production has none (checked at start too) or a key is bad.
        """
        key = self.settings.token_key
        if key is not None:
            return TokenCipher(check_token_key(key.get_secret_value(), "KEEPWARM_TOKEN_KEY"))
        if not self.settings.embedded:
            raise TokenKeyError("production mode (DATABASE_URL set) needs KEEPWARM_TOKEN_KEY")
        return TokenCipher(home_token_key(self.settings.home))

    @property
    def token_key_name(self) -> str:
        """Where the token key comes from, as a person would look for it."""
        if self.settings.token_key is not None or not self.settings.embedded:
            return "KEEPWARM_TOKEN_KEY"
        return f"KEEPWARM_TOKEN_KEY (or {self.settings.home / 'token_key'})"

    def open_sources(
        self, account: Account, tokens: dict[str, Any], on_call: Callable[[], None] = lambda: None
    ) -> AccountSources:
        """The account's sources, from its provider, spending from the user's shared quota.

        `on_call` runs before every provider call (the sync actor renews its lease there).
        """
        provider = self.providers.get(account.provider)
        key = f"{account.provider}:{account.email}"

        def spend(budget: str, units: int) -> None:
            on_call()
            # The mail budget keeps the key it always had, so running workers agree on it.
            self.quota.spend(key if budget == "mail" else f"{key}:{budget}", units)

        return provider.open_sources(account.email, account.api_base, tokens, spend)

    def link_signer(self) -> LinkSigner:
        """The signer of one-click links.

        Production takes the key from KEEPWARM_SECRET_KEY (checked at start). An embedded
        install without one keeps a generated key in KEEPWARM_HOME, readable only by its owner,
        so links in last week's digest still work after a restart.
        """
        max_age = timedelta(days=self.settings.link_max_age_days)
        if self.settings.secret_key is not None:
            secret = check_secret(
                self.settings.secret_key.get_secret_value(), "KEEPWARM_SECRET_KEY"
            )
            return LinkSigner(secret, max_age, self.clock)
        return LinkSigner(home_secret(self.settings.home), max_age, self.clock)

    @property
    def notify_rules(self) -> NotifyRules:
        s = self.settings
        return NotifyRules(
            digest=DigestRules(
                size=s.digest_size, queue=self.queue_rules, lifecycle=self.lifecycle_rules
            ),
            prompt=PromptRules(
                delay=timedelta(minutes=s.prompt_delay_minutes),
                window=timedelta(hours=s.prompt_window_hours),
            ),
            outbox=OutboxRules(
                max_attempts=s.delivery_max_attempts,
                claim_timeout=timedelta(minutes=s.delivery_claim_minutes),
            ),
            catch_up=timedelta(hours=s.digest_catch_up_hours),
            stale_after=timedelta(hours=s.stale_after_hours),
            mail_from=s.mail_from,
            public_url=s.public_url,
        )

    def mail_transport(self) -> MailTransport:
        """SMTP when a host is set; otherwise .eml files in KEEPWARM_HOME/outbox."""
        s = self.settings
        if s.smtp_host is None:
            return FileTransport(s.home / "outbox")
        return SmtpTransport(
            s.smtp_host,
            s.smtp_port,
            s.smtp_security,
            s.smtp_username,
            s.smtp_password.get_secret_value() if s.smtp_password else None,
            s.smtp_timeout_seconds,
        )

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
        return QueueRules(
            floor_months=self.settings.floor_months,
            ranker_prior=self.settings.ranker_prior,
            learn_from_answers=self.settings.learn_from_answers,
        )

    def close(self) -> None:
        self.engine.dispose()


def check_settings(settings: Settings) -> None:
    """Refuse settings production cannot run with, and keys that are empty, short or malformed.

    Raises TokenKeyError (a key) or InvalidInput (REDIS_URL), each one line naming the setting.
    """
    production = "production mode (DATABASE_URL set)"
    if not settings.embedded and settings.token_key is None:
        raise TokenKeyError(f"{production} needs KEEPWARM_TOKEN_KEY")
    if not settings.embedded and settings.secret_key is None:
        raise TokenKeyError(f"{production} needs KEEPWARM_SECRET_KEY to sign email links")
    if not settings.embedded and settings.redis_url is None:
        raise InvalidInput(
            f"{production} needs REDIS_URL: locks and quotas must be shared by every process",
            field="REDIS_URL",
        )
    if settings.token_key is not None:
        check_token_key(settings.token_key.get_secret_value(), "KEEPWARM_TOKEN_KEY")
    if settings.secret_key is not None:
        check_secret(settings.secret_key.get_secret_value(), "KEEPWARM_SECRET_KEY")


def build_runtime(settings: Settings) -> Runtime:
    """Connect to the configured database and bring its schema up to date.

    Raises TokenKeyError or InvalidInput, naming the setting or file, before anything is
    opened: production (DATABASE_URL set) refuses to start without KEEPWARM_TOKEN_KEY (tokens
    must never be stored unencrypted, and a key made up on the spot would lose them on
    restart), KEEPWARM_SECRET_KEY, or REDIS_URL (without it locks and quotas would be per
    process: two workers could sync one account at once); a key given but empty, short or
    malformed is refused in either mode.
    """
    check_settings(settings)
    if settings.embedded:
        # The database and the keys beside it open every stored grant: the owner's only.
        private_dir(settings.home)
        private_file(settings.sqlite_path)
    engine = make_engine(settings.sqlalchemy_url())
    migrate(engine)
    quota: Quota
    locks: AccountLocks
    providers: ProviderRegistry
    if settings.redis_url is not None:
        client = redis.Redis.from_url(settings.redis_url.get_secret_value())
        namespace = settings.queue_namespace
        quota = RedisQuota(client, settings.gmail_units_per_second, namespace)
        locks = RedisLocks(
            client,
            namespace,
            liveness_ms=int(settings.worker_liveness_seconds * 1000),
        )
        # Outlook's limits per mailbox, shared by every worker: 4 requests at once (a place
        # outlives any request: the Graph timeout), 10,000 in 10 minutes.
        providers = build_providers(
            settings,
            graph_slots=RedisSlots(
                client,
                settings.graph_concurrent_requests,
                namespace,
                ttl_ms=int(settings.microsoft_timeout_seconds * 2000),
            ),
            graph_budget=RedisQuota(
                client, settings.graph_requests_per_10_minutes, namespace, window=600.0
            ),
        )
    else:
        quota, locks = LocalQuota(settings.gmail_units_per_second), LocalLocks()
        providers = build_providers(settings)
    return Runtime(settings, engine, make_session_factory(engine), quota, locks, providers)
