"""The web's cache of per-contact statistics serves only what cannot mislead."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from keepwarm.services.accounts.users import ensure_user
from keepwarm.services.core.config import Settings
from keepwarm.services.core.jobs import unit_of_work
from keepwarm.services.models import Interaction
from keepwarm.services.runtime import Runtime, build_runtime
from keepwarm.services.web.stats_cache import StatsCache
from tests.support.links import add_contact
from tests.support.web import AS_OF


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def runtime(embedded_settings: Settings) -> Iterator[Runtime]:
    built = build_runtime(embedded_settings)
    try:
        yield built
    finally:
        built.close()


def _user_with_contact(runtime: Runtime) -> int:
    with unit_of_work(runtime.session_factory) as uow:
        user_id = ensure_user(uow.session).id
        add_contact(uow.session, user_id, "Jane Doe", "jane@example.com")
    return user_id


def test_new_interactions_and_earlier_moments_are_never_served_from_it(runtime: Runtime) -> None:
    user_id = _user_with_contact(runtime)
    ticks = Ticks()
    cache = StatsCache(runtime.session_factory, 60, monotonic=ticks)
    session = runtime.session_factory()
    later = AS_OF.replace(year=2027)
    first = cache.stats(session, user_id, later)
    assert [s.emails_sent for s in first] == [1]
    assert cache.stats(session, user_id, later) is first  # kept
    # A moment before the one it was made for: built afresh, with nothing later in it
    assert cache.stats(session, user_id, AS_OF) == []
    assert cache.stats(session, user_id, later) is not first
    # A new interaction (a sync, an import, "talked elsewhere"): the next request sees it
    with unit_of_work(runtime.session_factory) as uow:
        person = uow.session.scalars(select(Interaction.person_id)).one()
        uow.session.add(
            Interaction(
                user_id=user_id,
                person_id=person,
                kind="elsewhere",
                at=later - timedelta(days=1),
                source_key="l:1",
                group_size=1,
            )
        )
    [stats] = cache.stats(session, user_id, later)
    assert (stats.emails_sent, stats.talked_elsewhere) == (1, 1)
    assert stats.history.points == ()  # only the summary is kept


def test_an_old_summary_is_served_while_a_new_one_is_made_then_dropped(runtime: Runtime) -> None:
    user_id = _user_with_contact(runtime)
    ticks = Ticks()
    cache = StatsCache(runtime.session_factory, 60, monotonic=ticks)
    session = runtime.session_factory()
    later = AS_OF.replace(year=2027)
    first = cache.stats(session, user_id, later)
    ticks.now = 61  # past its time: served once more, while a thread makes the next
    assert cache.stats(session, user_id, later + timedelta(seconds=61)) is first
    ticks.now = 61 * 10  # far past: the request builds it
    assert cache.stats(session, user_id, later + timedelta(seconds=610)) is not first
    cache.forget(user_id)
    off = StatsCache(runtime.session_factory, 0)
    assert off.stats(session, user_id, later) is not off.stats(session, user_id, later)
