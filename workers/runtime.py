"""What an entry point builds once and hands to the actors: settings, database, rules."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from services.config import Settings
from services.db import make_engine, make_session_factory, migrate
from services.derivation import DerivationRules
from services.lifecycle import LifecycleRules
from services.reconnect import QueueRules

__all__ = ["Runtime", "build_runtime"]


@dataclass(frozen=True)
class Runtime:
    """The process-wide collaborators, passed explicitly; nothing below reads the environment."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]

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
    """Connect to the configured database and bring its schema up to date."""
    engine = make_engine(settings.sqlalchemy_url())
    migrate(engine)
    return Runtime(settings, engine, make_session_factory(engine))
