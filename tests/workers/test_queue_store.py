"""The current queue from the stored statistics is the queue the history gives, exactly.

On a real mailbox (tests/data/enron/delainey-d, imported through the CLI), on SQLite and on
PostgreSQL: the same people in the same order, with the same figures, scores and why-lines,
at the moment the statistics were built, later that day, with answers given before and
after, and for the dormant ties; and never where they no longer describe the data.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from keepwarm.services.core.config import Settings
from keepwarm.services.models import Action, Interaction, QueueState, User
from keepwarm.services.reconnect import QueueRules, store, views
from keepwarm.services.reconnect.engine import Suggestion
from keepwarm.services.reconnect.lifecycle import LifecycleRules, record_person_action, states_at
from keepwarm.services.runtime import build_runtime
from tests.support.cli import run_cli
from tests.support.paths import TEST_DATA

ENRON = TEST_DATA / "enron" / "delainey-d"
# A Saturday evening; the sample's next mail is months later.
BUILT = datetime(2001, 3, 3, 20, 0, tzinfo=UTC)


def _shown(queue: list[Suggestion]) -> list[dict[str, Any]]:
    return [{**views.suggestion_json(s), "id": s.stats.history.person_id} for s in queue]


def _both(
    session: Session, user_id: int, at: datetime, rules: QueueRules, *, dormant: bool = False
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    states = states_at(session, user_id, at, LifecycleRules())
    stored = store.stored_queue(session, user_id, at, rules, states, dormant=dormant)
    assert stored is not None, "the statistics should hold at this moment"
    fresh = views.suggestions_from_history(session, user_id, at, rules, states, dormant=dormant)
    return _shown(stored), _shown(fresh)


def test_the_stored_queue_is_the_history_queue(any_settings: Settings) -> None:
    run_cli(any_settings, "import", str(ENRON))
    runtime = build_runtime(any_settings)
    try:
        _stored_equals_history(runtime.session_factory, runtime.queue_rules)
    finally:
        runtime.close()


def _stored_equals_history(factory: sessionmaker[Session], rules: QueueRules) -> None:
    with factory() as session:
        user_id = session.scalars(select(User.id)).one()
        # The worker built them after the import's derivation, as of the clock's now.
        built = session.get(QueueState, user_id)
        assert built is not None and built.model is not None
        assert built.newest_interaction == session.scalar(select(func.max(Interaction.id)))

        first, second, third = [
            s.stats.history.person_id
            for s in views.suggestions_from_history(
                session, user_id, BUILT, rules, states_at(session, user_id, BUILT, LifecycleRules())
            )[:3]
        ]
        # Answers the fit learns from and the lifecycle acts on, given before the moment
        record_person_action(session, user_id, first, Action.DONE, BUILT - timedelta(days=40))
        record_person_action(session, user_id, second, Action.STOP, BUILT - timedelta(days=2))
        store.refresh(session, user_id, rules, BUILT)
        state = session.get(QueueState, user_id)
        assert state is not None and state.valid_until is not None
        # Later that evening (the stored model), and weeks later (another day: fitted afresh)
        later = BUILT + timedelta(hours=3)
        weeks = BUILT + (state.valid_until - BUILT) / 2
        assert later < weeks < state.valid_until
        for at in (BUILT, later, weeks):
            stored, fresh = _both(session, user_id, at, rules)
            assert len(stored) > 10
            assert stored == fresh
            states = states_at(session, user_id, at, LifecycleRules())
            page = store.stored_queue(session, user_id, at, rules, states, limit=5)
            assert page is not None and _shown(page) == fresh[:5]
        stored, fresh = _both(session, user_id, later, rules, dormant=True)
        assert stored == fresh

        # An answer after they were built: the model is fitted again (once, on this read),
        # and the queue still equals the history's
        record_person_action(
            session, user_id, third, Action.SNOOZE, later, later + timedelta(days=30)
        )
        states = states_at(session, user_id, later, LifecycleRules())
        again = store.stored_queue(session, user_id, later, rules, states, current=True)
        assert again is not None
        assert _shown(again) == _shown(
            views.suggestions_from_history(session, user_id, later, rules, states)
        )
        key = session.get(QueueState, user_id).model_key  # type: ignore[union-attr]
        assert store.stored_queue(session, user_id, later, rules, states) is not None
        assert session.get(QueueState, user_id).model_key == key  # type: ignore[union-attr]

        # Where they no longer describe the data, they are not used
        assert store.stored_queue(session, user_id, BUILT - timedelta(seconds=1), rules, {}) is None
        assert store.stored_queue(session, user_id, state.valid_until, rules, {}) is None
        session.rollback()


def test_a_new_interaction_or_a_merge_means_the_next_current_read_builds_them(
    any_settings: Settings,
) -> None:
    run_cli(any_settings, "import", str(ENRON))
    runtime = build_runtime(any_settings)
    try:
        _rebuilt_when_stale(runtime.session_factory, runtime.queue_rules)
    finally:
        runtime.close()


def _rebuilt_when_stale(factory: sessionmaker[Session], rules: QueueRules) -> None:
    now = datetime(2002, 6, 1, tzinfo=UTC)
    with factory() as session:
        user_id = session.scalars(select(User.id)).one()
        store.refresh(session, user_id, rules, now)
        session.commit()
        queue = views.suggestions(session, user_id, now, rules, None)
        # "talked elsewhere" adds an interaction: what was stored no longer holds
        who = queue[0].stats.history.person_id
        record_person_action(session, user_id, who, Action.TALKED_ELSEWHERE, now)
        session.commit()
        assert store.stored_queue(session, user_id, now, rules, {}) is None
        after = views.suggestions(session, user_id, now, rules, None, current=True)
        session.commit()
        assert who not in {s.stats.history.person_id for s in after}
        assert store.stored_queue(session, user_id, now, rules, {}) is not None
        store.forget(session, user_id)
        session.commit()
        assert session.get(QueueState, user_id) is None
        assert _shown(views.suggestions(session, user_id, now, rules, None, current=True)) == (
            _shown(after)
        )
