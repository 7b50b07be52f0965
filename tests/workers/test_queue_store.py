"""The current queue from the stored statistics is the queue the history gives, exactly.

On a real mailbox (tests/data/enron/delainey-d, imported through the CLI), on SQLite and on
PostgreSQL: the same people in the same order, with the same figures, scores and why-lines,
at the moment the statistics were built, later that day, with answers given before and
after, and for the dormant ties; and never where they no longer describe the data.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from keepwarm.services.core.config import Settings
from keepwarm.services.models import (
    Action,
    Interaction,
    Person,
    PersonAddress,
    QueueState,
    User,
)
from keepwarm.services.reconnect import QueueRules, store, views
from keepwarm.services.reconnect.engine import Suggestion
from keepwarm.services.reconnect.lifecycle import LifecycleRules, record_person_action, states_at
from keepwarm.services.runtime import Runtime, build_runtime
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


def test_scores_round_as_python_rounds() -> None:
    # Given scores anywhere in [0, 1], and ones a hair from a half at the sixth decimal,
    # where rounding the scaled product (numpy's own round) can fall the other way
    rng = np.random.default_rng(7)
    halves = (np.arange(0, 1_000_000, 37) + 0.5) / 1e6
    values = np.concatenate(
        [
            rng.random(200_000),
            halves,
            np.nextafter(halves, 0.0),
            np.nextafter(halves, 1.0),
            [0.0, 1.0, 1e-300, 0.9999995, 2.5e-6, -0.25, 3.0000005, np.nan],
        ]
    )
    expected = [round(v, 6) for v in values.tolist()]
    assert np.round(values, 6).tolist() != expected, "the set should hold a case numpy rounds apart"
    # When rounded at once, the doubles are Python's, bit for bit
    got = store.round6(values)
    assert np.asarray(got).view(np.int64).tolist() == np.asarray(expected).view(np.int64).tolist()


def test_ties_on_score_and_silence_are_ordered_by_address(any_settings: Settings) -> None:
    # Given people with the same history to the microsecond (the same score and silence),
    # their ids in the opposite order of their addresses, and one person apart
    runtime = build_runtime(any_settings)
    try:
        with runtime.session_factory() as session:
            user = User(handle="ties", created_at=BUILT)
            session.add(user)
            session.flush()
            for n, local in enumerate(["zoe", "yan", "xia", "wil", "apart"]):
                person = Person(user_id=user.id, display_name=local.title())
                session.add(person)
                session.flush()
                session.add(
                    PersonAddress(
                        user_id=user.id, address=f"{local}@example.com", person_id=person.id
                    )
                )
                days = [0, 30, 61, 95] if local != "apart" else [3, 40, 70]
                for d in days:
                    session.add(
                        Interaction(
                            user_id=user.id,
                            person_id=person.id,
                            kind="sent",
                            at=BUILT - timedelta(days=400 - d + n * (local == "apart")),
                            source_key=f"m:{local}:{d}",
                            subject=f"about {d}",
                        )
                    )
            session.flush()
            rules = runtime.queue_rules
            store.refresh(session, user.id, rules, BUILT)
            at = BUILT + timedelta(hours=1)
            stored, fresh = _both(session, user.id, at, rules)
            # Then the stored queue is the history's, the tied four by their addresses
            assert stored == fresh
            shown = [s["contact"]["addresses"][0] for s in stored]
            tied = [a for a in shown if not a.startswith("apart")]
            assert tied == sorted(tied) and len(tied) == 4
            assert (
                len(
                    {
                        s["score"]
                        for s in stored
                        if not s["contact"]["addresses"][0].startswith("apart")
                    }
                )
                == 1
            )
            session.rollback()
    finally:
        runtime.close()


@contextmanager
def _built(settings: Settings) -> Iterator[tuple[Runtime, int]]:
    """The sample mailbox imported, and its owner's statistics and model built at BUILT."""
    run_cli(settings, "import", str(ENRON))
    runtime = build_runtime(settings)
    try:
        with runtime.session_factory() as session:
            user_id = session.scalars(select(User.id)).one()
            store.refresh(session, user_id, runtime.queue_rules, BUILT)
            session.commit()
        yield runtime, user_id
    finally:
        runtime.close()


def test_a_state_built_before_the_candidates_were_kept_is_built_again(
    any_settings: Settings,
) -> None:
    # Given statistics built as before migration 0009: no packed candidates
    with _built(any_settings) as (runtime, user_id):
        rules = runtime.queue_rules
        with runtime.session_factory() as session:
            expected = _shown(views.suggestions(session, user_id, BUILT, rules, None))
            session.execute(
                update(QueueState)
                .where(QueueState.user_id == user_id)
                .values(
                    candidate_ids=None,
                    candidate_last_us=None,
                    candidate_gaps=None,
                    candidate_figures=None,
                )
            )
            session.commit()
            session.expire_all()
            # When read: a past moment falls back to the history; the current read builds them
            assert store.stored_queue(session, user_id, BUILT, rules, {}) is None
            assert store.stored_queue(session, user_id, BUILT, rules, {}, dormant=True) is not None
            again = store.stored_queue(session, user_id, BUILT, rules, {}, current=True)
            session.commit()
            # Then the queue is the same, and kept for the next read
            assert again is not None and _shown(again) == expected
            session.expire_all()
            state = session.get(QueueState, user_id)
            assert state is not None and state.candidate_ids is not None


def _turned(model: str) -> str:
    """The same model with every weight reversed: a read using it orders otherwise."""
    fields = json.loads(model)
    fields["coef"] = [-c for c in fields["coef"]]
    return json.dumps(fields)


def test_the_worker_refits_a_stale_model_so_the_next_read_fits_nothing(
    any_settings: Settings,
) -> None:
    with _built(any_settings) as (runtime, user_id):
        factory, rules = runtime.session_factory, runtime.queue_rules
        with factory() as session:
            top = views.suggestions(session, user_id, BUILT, rules, 1)[0].stats.history.person_id
        # Given a model that is current: the job fits nothing
        assert store.refit_models(factory, rules, BUILT + timedelta(hours=1)) == []

        # When an answer comes, the job refits once (a second run finds nothing to do)
        with factory() as session:
            at = BUILT + timedelta(hours=2)
            record_person_action(session, user_id, top, Action.SNOOZE, at, at + timedelta(days=9))
            session.commit()
        later = BUILT + timedelta(hours=3)
        assert store.refit_models(factory, rules, later) == [user_id]
        assert store.refit_models(factory, rules, later) == []
        # Then the read trusts the kept model (turned, it shows in the order) and fits none
        with factory() as session:
            state = session.get(QueueState, user_id)
            assert state is not None and state.model is not None
            kept = state.model
            state.model = _turned(kept)
            session.commit()
            states = states_at(session, user_id, later, LifecycleRules())
            fresh = _shown(views.suggestions_from_history(session, user_id, later, rules, states))
            read = store.stored_queue(session, user_id, later, rules, states, current=True)
            assert read is not None and _shown(read) != fresh
            state.model = kept
            session.commit()
            read = store.stored_queue(session, user_id, later, rules, states, current=True)
            assert read is not None and _shown(read) == fresh

        # And a new day (a new training cut-off) is refitted by the job, not by the read
        next_day = later + timedelta(days=1)
        assert store.refit_models(factory, rules, next_day) == [user_id]
        with factory() as session:
            state = session.get(QueueState, user_id)
            assert state is not None and state.model is not None
            state.model = _turned(state.model)
            session.commit()
            states = states_at(session, user_id, next_day, LifecycleRules())
            fresh = _shown(
                views.suggestions_from_history(session, user_id, next_day, rules, states)
            )
            read = store.stored_queue(session, user_id, next_day, rules, states, current=True)
            assert read is not None and _shown(read) != fresh


def test_where_the_statistics_no_longer_hold_the_job_leaves_them_to_the_refresh(
    any_settings: Settings,
) -> None:
    with _built(any_settings) as (runtime, user_id):
        factory, rules = runtime.session_factory, runtime.queue_rules
        with factory() as session:
            state = session.get(QueueState, user_id)
            assert state is not None and state.valid_until is not None
            key = state.model_key
            until = state.valid_until
        # Before they were built and once a later interaction has come to pass: nothing fitted
        assert store.refit_models(factory, rules, BUILT - timedelta(days=1)) == []
        assert store.refit_models(factory, rules, until) == []
        with factory() as session:
            assert session.get(QueueState, user_id).model_key == key  # type: ignore[union-attr]
