"""The current reconnect queue from statistics kept per contact, not from every interaction.

Reading every interaction of a user, summarising each contact and fitting the owner's model
on each read costs seconds to minutes for a big mailbox (bench/queue_speed.py). So after each
derivation the worker rebuilds, for the user:

- one row per contact (ContactStatsRow): the figures the queue shows and the running totals
  the ranker reads (learning.features.Aggregate), as they stand at that moment. What depends
  on the clock is not stored but worked out when read: silences from the last interaction and
  the last appearance, recency-decayed volumes from sums kept as of their last addition;
- the owner's fitted model, under a key naming what it was fitted from.

A read uses them while they describe the data exactly: the user's newest interaction is the
one they were built with (new mail, an import, "talked elsewhere" all add one), the moment
read is not before they were built, and no interaction or appearance dated between the two
(a meeting that was still ahead) has since come to pass. The queue is then the one the
interactions would give at that moment, bit for bit (tests/workers/test_queue_store.py):
same contacts, same rows, the same model. Otherwise the read recomputes from the history
(`--as-of` a past date always does) and, for the current queue, stores what it built.

The model's fit depends on the moment only through the day of its newest training cut-off
(learning.examples.training_cutoffs) and the answers given by then: it is fitted again when a
new day or a new answer comes, once, by the worker's periodic job (`refit_models`, every
scheduler tick) or by a current read that comes before it.

A read fetches one row of candidates (every relationship's id, last interaction, usual gap
and ranker figures, packed as arrays in QueueState) and works out who is due and their
scores at once in numpy, then reads whole rows only for the people shown.

What no newest interaction shows (two people merged, one split, an account purged) calls
`forget`, so the next read builds afresh.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from keepwarm.services.accounts.preferences import queue_rules_for
from keepwarm.services.models import (
    ContactStatsRow,
    Event,
    Interaction,
    LifecycleEvent,
    Message,
    QueueState,
    User,
)
from keepwarm.services.reconnect.engine import (
    DAYS_PER_MONTH,
    QueueRules,
    Suggestion,
    dormant_ties,
    due_level,
    learned_why,
    learning_rules,
)
from keepwarm.services.reconnect.history import ContactHistory, load_histories
from keepwarm.services.reconnect.learning import OwnerSignals, fit_owner_model, load_signals
from keepwarm.services.reconnect.learning.examples import ExampleRules, day_end
from keepwarm.services.reconnect.learning.features import (
    FIGURES_WIDTH,
    Aggregate,
    Tracker,
    figures,
    from_figures,
    timelines,
)
from keepwarm.services.reconnect.learning.model import LinearModel
from keepwarm.services.reconnect.learning.ranker import score_figures
from keepwarm.services.reconnect.lifecycle import ContactState
from keepwarm.services.reconnect.stats import ContactStats, compute_stats

_NO_ANSWERS = ContactState()

__all__ = [
    "REFIT_ACTOR",
    "REFRESH_ACTOR",
    "forget",
    "refit_model",
    "refit_models",
    "refresh",
    "refresh_user",
    "round6",
    "stored_queue",
]

# The ranker reads appearances of the last 90 days (features.Snapshot.seen_90_days).
_SEEN_WINDOW_DAYS = 90.0
_F8 = "<f8"
_I8 = "<i8"


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICROSECOND


def _unpack(
    figures_blob: bytes,
    seen_days: bytes,
    first_at: datetime,
    last_at: datetime,
    last_seen_at: datetime | None,
) -> Aggregate:
    return from_figures(
        np.frombuffer(figures_blob, dtype=_F8).tolist(),
        first_at,
        last_at,
        last_seen_at,
        np.frombuffer(seen_days, dtype=_F8).tolist(),
    )


def _newest_interaction(session: Session, user_id: int) -> int:
    newest = session.scalar(select(func.max(Interaction.id)).where(Interaction.user_id == user_id))
    return int(newest or 0)


def _next_change(session: Session, user_id: int, after: datetime) -> datetime | None:
    """The first interaction or appearance dated after `after` (meetings still ahead; mail
    with a date to come): the statistics hold until then."""
    found = [
        session.scalar(
            select(func.min(Interaction.at)).where(
                Interaction.user_id == user_id, Interaction.at > after
            )
        ),
        session.scalar(
            select(func.min(Message.sent_at)).where(
                Message.user_id == user_id, Message.sent_at > after
            )
        ),
        session.scalar(
            select(func.min(Event.start)).where(Event.user_id == user_id, Event.start > after)
        ),
    ]
    moments = [m for m in found if m is not None]
    return min(moments) if moments else None


def _model_key(
    session: Session, user_id: int, state: QueueState, rules: QueueRules, as_of: datetime
) -> str:
    """What a fit as of `as_of` reads: the data the statistics were built from, the day of
    the newest training cut-off, the answers given by then, and the settings."""
    learning = learning_rules(rules)
    answers: object = "off"
    if learning.learn_from_answers:
        answers = session.scalar(
            select(func.max(LifecycleEvent.id)).where(
                LifecycleEvent.user_id == user_id, LifecycleEvent.at <= as_of
            )
        )
    cut = day_end(as_of - timedelta(days=ExampleRules().horizon_days))
    return json.dumps(
        [
            state.built_at.isoformat(),
            state.newest_interaction,
            cut.isoformat(),
            answers,
            None if learning.prior_path is None else str(learning.prior_path),
            learning.learn_from_answers,
            learning.floor_days,
            repr(learning.fit),
        ]
    )


def forget(session: Session, user_id: int) -> None:
    """Drop the user's statistics (what they were built from changed without a new
    interaction: people merged or split, an account purged); the next read builds them."""
    session.execute(delete(ContactStatsRow).where(ContactStatsRow.user_id == user_id))
    session.execute(delete(QueueState).where(QueueState.user_id == user_id))


def refresh(session: Session, user_id: int, rules: QueueRules, now: datetime) -> None:
    """Build the user's contact statistics and fit their model as of `now`, in `session`.

    Idempotent: a second run with nothing new writes the same rows. Serialised per user by
    the user's row lock (PostgreSQL; SQLite serialises writers anyway).
    """
    session.execute(select(User.id).where(User.id == user_id).with_for_update())
    newest = _newest_interaction(session, user_id)
    histories = load_histories(session, user_id, now)
    signals = load_signals(session, user_id, now)
    rows = _rows(user_id, histories, signals, now)
    session.execute(delete(ContactStatsRow).where(ContactStatsRow.user_id == user_id))
    for start in range(0, len(rows), 2000):
        session.execute(insert(ContactStatsRow), rows[start : start + 2000])
    state = session.get(QueueState, user_id, with_for_update=True)
    if state is None:
        state = QueueState(user_id=user_id, built_at=now)
        session.add(state)
    state.built_at = now
    state.newest_interaction = newest
    state.valid_until = _next_change(session, user_id, now)
    for column, packed in _pack(rows).items():
        setattr(state, column, packed)
    model = fit_owner_model(histories, now, learning_rules(rules), signals)
    state.model_key = _model_key(session, user_id, state, rules, now)
    state.model = _dump(model)
    session.flush()


def _dump(model: LinearModel) -> str:
    # Every digit (LinearModel.to_json rounds, for the shipped prior's file): the stored
    # model must score exactly as the one just fitted.
    return json.dumps(
        {
            "features": list(model.features),
            "center": list(model.center),
            "scale": list(model.scale),
            "coef": list(model.coef),
            "intercept": model.intercept,
            "examples": model.examples,
        }
    )


def _rows(
    user_id: int, histories: Sequence[ContactHistory], signals: OwnerSignals, now: datetime
) -> list[dict[str, object]]:
    since = now.timestamp() / 86400.0 - _SEEN_WINDOW_DAYS
    out: list[dict[str, object]] = []
    for line in timelines(histories, signals.appearances):
        tracker = Tracker(line)
        tracker.advance(now)
        if tracker.last_at is None:
            continue
        aggregate = tracker.aggregate().recent(since)
        stats = compute_stats(line.history)
        out.append(
            {
                "user_id": user_id,
                "person_id": line.history.person_id,
                "name": line.history.name,
                "addresses": "\n".join(line.history.addresses),
                "first_at": stats.first_at,
                "last_at": stats.last_at,
                "last_at_us": _micros(stats.last_at),
                "emails_sent": stats.emails_sent,
                "emails_received": stats.emails_received,
                "meetings": stats.meetings,
                "talked_elsewhere": stats.talked_elsewhere,
                "distinct_days": stats.distinct_days,
                "typical_gap_days": stats.typical_gap_days,
                "strength": stats.strength,
                "last_subject": stats.last_subject,
                "last_subject_at": stats.last_subject_at,
                "last_seen_at": aggregate.last_seen_at,
                "figures": np.asarray(figures(aggregate), dtype=_F8).tobytes(),
                "seen_days": np.asarray(aggregate.seen_days, dtype=_F8).tobytes(),
            }
        )
    return out


def _pack(rows: Sequence[Mapping[str, Any]]) -> dict[str, bytes]:
    """The relationships among `rows` (the queue's candidates), ascending by person id, as
    the four arrays QueueState keeps."""
    chosen = sorted(
        (r for r in rows if r["emails_sent"] > 0 or r["meetings"] > 0 or r["talked_elsewhere"] > 0),
        key=lambda r: int(r["person_id"]),
    )
    gaps = [math.nan if r["typical_gap_days"] is None else r["typical_gap_days"] for r in chosen]
    return {
        "candidate_ids": np.asarray([r["person_id"] for r in chosen], dtype=_I8).tobytes(),
        "candidate_last_us": np.asarray([r["last_at_us"] for r in chosen], dtype=_I8).tobytes(),
        "candidate_gaps": np.asarray(gaps, dtype=_F8).tobytes(),
        "candidate_figures": b"".join(r["figures"] for r in chosen),
    }


_FULL = (
    ContactStatsRow.person_id,
    ContactStatsRow.name,
    ContactStatsRow.addresses,
    ContactStatsRow.first_at,
    ContactStatsRow.last_at,
    ContactStatsRow.emails_sent,
    ContactStatsRow.emails_received,
    ContactStatsRow.meetings,
    ContactStatsRow.talked_elsewhere,
    ContactStatsRow.distinct_days,
    ContactStatsRow.typical_gap_days,
    ContactStatsRow.strength,
    ContactStatsRow.last_subject,
    ContactStatsRow.last_subject_at,
    ContactStatsRow.last_seen_at,
    ContactStatsRow.figures,
    ContactStatsRow.seen_days,
)


def _full(session: Session, user_id: int, ids: Sequence[int] | None) -> dict[int, Any]:
    """Whole rows, of `ids` (None: every contact), by person id."""
    query = select(*_FULL).where(ContactStatsRow.user_id == user_id)
    if ids is None:
        return {row.person_id: row for row in session.connection().execute(query)}
    out: dict[int, Any] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for row in session.connection().execute(query.where(ContactStatsRow.person_id.in_(chunk))):
            out[row.person_id] = row
    return out


def _stats(row: Any) -> ContactStats:
    return ContactStats(
        history=ContactHistory(row.person_id, row.name, tuple(row.addresses.split("\n")), ()),
        first_at=row.first_at,
        last_at=row.last_at,
        emails_sent=row.emails_sent,
        emails_received=row.emails_received,
        meetings=row.meetings,
        talked_elsewhere=row.talked_elsewhere,
        distinct_days=row.distinct_days,
        typical_gap_days=row.typical_gap_days,
        last_subject=row.last_subject,
        last_subject_at=row.last_subject_at,
        strength=row.strength,
    )


def _aggregate(row: Any) -> Aggregate:
    return _unpack(row.figures, row.seen_days, row.first_at, row.last_at, row.last_seen_at)


def _holds(state: QueueState, newest: int, as_of: datetime) -> bool:
    return (
        state.newest_interaction == newest
        and state.built_at <= as_of
        and (state.valid_until is None or as_of < state.valid_until)
    )


def stored_queue(
    session: Session,
    user_id: int,
    as_of: datetime,
    rules: QueueRules,
    states: Mapping[int, ContactState],
    *,
    dormant: bool = False,
    current: bool = False,
    limit: int | None = None,
) -> list[Suggestion] | None:
    """The queue (or the dormant ties) at `as_of` from the stored statistics, or None when
    they do not describe the data at that moment. `limit`: only the first that many.

    `current`: `as_of` is now (no `--as-of`): statistics that do not hold are built again and
    a model that does not fit is fitted again, both written in `session` for the caller to
    commit, so the next read only reads."""
    newest = _newest_interaction(session, user_id)
    found = session.get(QueueState, user_id)
    if (
        found is None
        or not _holds(found, newest, as_of)
        # Built before the candidates were kept (migration 0009): the queue needs them.
        or (not dormant and (packed := _candidates(session, user_id)) is None)
    ):
        if not current:
            return None
        refresh(session, user_id, rules, as_of)
        found = session.get(QueueState, user_id)
        assert found is not None
        packed = None if dormant else _candidates(session, user_id)
    state: QueueState = found
    if dormant:
        ties = dormant_ties(
            [_stats(r) for r in _full(session, user_id, None).values()], as_of, rules, states
        )
        return ties[:limit] if limit is not None else ties
    # Who is due, from the packed candidates (one row, refresh's), all at once
    # (engine.due_level, vectorised). Silences in days as datetime arithmetic gives them:
    # whole microseconds, divided by 10**6 and by 86,400, each division rounded once.
    assert packed is not None
    ids_all = np.frombuffer(packed[0], dtype=_I8)
    if len(ids_all) == 0:
        return []
    last_us = np.frombuffer(packed[1], dtype=_I8)
    gap = np.frombuffer(packed[2], dtype=_F8)
    all_figures = np.frombuffer(packed[3], dtype=_F8).reshape(len(ids_all), FIGURES_WIDTH)
    days = ((_micros(as_of) - last_us) / 1e6) / 86400
    threshold = np.maximum(rules.floor_months * DAYS_PER_MONTH, np.nan_to_num(gap, nan=0.0))
    is_due = days > threshold
    overdue = days > threshold * rules.overdue_factor
    levels: dict[int, tuple[float, float, str]] = {}
    # The few people the user answered about: one by one, as the engine does.
    where = np.searchsorted(ids_all, np.asarray(sorted(states), dtype=np.int64))
    answered = [
        int(i)
        for i, pid in zip(where.tolist(), sorted(states), strict=True)
        if i < len(ids_all) and int(ids_all[i]) == pid
    ]
    for i in answered:
        last_at = _EPOCH + timedelta(microseconds=int(last_us[i]))
        g = None if np.isnan(gap[i]) else float(gap[i])
        found_due = due_level(last_at, g, states[int(ids_all[i])], as_of, rules)
        is_due[i] = found_due is not None
        if found_due is not None:
            levels[i] = found_due
    picked = np.flatnonzero(is_due)
    if len(picked) == 0:
        return []
    due_ids = ids_all[picked].tolist()
    key = _model_key(session, user_id, state, rules, as_of)
    if state.model_key == key and state.model is not None:
        model = LinearModel.from_json(json.loads(state.model))
    else:
        histories = load_histories(session, user_id, as_of)
        model = fit_owner_model(
            histories, as_of, learning_rules(rules), load_signals(session, user_id, as_of)
        )
        if current:
            state.model_key = key
            state.model = _dump(model)
            session.flush()
    scores = score_figures(model, due_ids, all_figures[picked], as_of)
    rounded = round6(scores.probabilities)
    # The queue's order (engine.ranked_suggestions): score, then the longer silent, then the
    # addresses (no two people share one), which only ties on both come to.
    score_array = np.asarray(rounded)
    due_last = last_us[picked]
    by_key = np.lexsort((due_last, -score_array))
    order = by_key.tolist()
    tied = np.flatnonzero((np.diff(score_array[by_key]) == 0) & (np.diff(due_last[by_key]) == 0))
    if len(tied):
        # Only people tied with a neighbour on both are ever compared by their addresses.
        among = sorted({int(by_key[t]) for t in tied} | {int(by_key[t + 1]) for t in tied})
        addresses = _addresses(session, user_id, [due_ids[j] for j in among])
        order = sorted(
            order,
            key=lambda j: (-rounded[j], int(due_last[j]), addresses.get(due_ids[j], [])),
        )
    chosen = order[:limit] if limit is not None else order
    rows = _full(session, user_id, [due_ids[j] for j in chosen])
    out: list[Suggestion] = []
    for j in chosen:
        i = int(picked[j])
        row = rows[due_ids[j]]
        stats = _stats(row)
        if i in levels:
            days_silent, threshold_days, level = levels[i]
        else:
            days_silent, threshold_days = float(days[i]), float(threshold[i])
            level = "overdue" if overdue[i] else "due"
        ranked = scores.ranked(j, _aggregate(row))
        why = partial(learned_why, ranked, stats, days_silent, threshold_days)
        out.append(Suggestion(stats, days_silent, threshold_days, level, rounded[j], why))
    return out


_PACKED = (
    QueueState.candidate_ids,
    QueueState.candidate_last_us,
    QueueState.candidate_gaps,
    QueueState.candidate_figures,
)


def _candidates(session: Session, user_id: int) -> tuple[bytes, bytes, bytes, bytes] | None:
    """The user's packed candidates (QueueState), None when not kept."""
    connection = session.connection()
    row: Any
    if connection.dialect.driver == "psycopg":
        # psycopg receives bytea as hex text unless asked for binary: for 10,000 contacts
        # (2.4 MB of figures) about 20 ms as text, 4 ms as binary. Same connection, same
        # transaction: only the wire format differs.
        raw = connection.connection.driver_connection
        assert raw is not None
        with raw.cursor(binary=True) as cursor:
            cursor.execute(
                "SELECT candidate_ids, candidate_last_us, candidate_gaps, candidate_figures"
                " FROM queue_states WHERE user_id = %s",
                (user_id,),
            )
            row = cursor.fetchone()
    else:
        row = connection.execute(
            select(*_PACKED).where(QueueState.user_id == user_id)
        ).one_or_none()
    if row is None or any(value is None for value in row):
        return None
    return (bytes(row[0]), bytes(row[1]), bytes(row[2]), bytes(row[3]))


def _addresses(session: Session, user_id: int, ids: Sequence[int]) -> dict[int, list[str]]:
    r = ContactStatsRow
    query = select(r.person_id, r.addresses).where(r.user_id == user_id)
    out: dict[int, list[str]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for pid, addresses in session.connection().execute(query.where(r.person_id.in_(chunk))):
            out[pid] = addresses.split("\n")
    return out


def round6(values: NDArray[np.float64]) -> list[float]:
    """`round(v, 6)` of each value, exactly as Python rounds (the queue's order ties on it),
    at numpy's speed.

    Python rounds the exact decimal value of the double and returns the double nearest the
    result; rint(v * 10**6) / 10**6 gives the same double unless v * 10**6 lies within the
    product's rounding error (under 2**-32 for |v| <= 1) of a half: those few, and anything
    outside [-1, 1], are rounded by Python."""
    scaled = values * 1e6
    out: list[float] = (np.rint(scaled) / 1e6).tolist()
    near_half = np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6
    # (NaN compares False: `~(abs <= 1)` sends it to Python too.)
    for i in np.flatnonzero(near_half | ~(np.abs(values) <= 1.0)).tolist():
        out[i] = round(float(values[i]), 6)
    return out


REFRESH_ACTOR = "queue.refresh_stats"


def refresh_user(
    session_factory: sessionmaker[Session], user_id: int, defaults: QueueRules, now: datetime
) -> None:
    """The worker's job after each derivation: build the user's statistics and model as of
    `now`, in a transaction of its own (nothing for a user who no longer exists)."""
    with session_factory() as session, session.begin():
        if session.get(User, user_id) is None:
            return
        refresh(session, user_id, queue_rules_for(session, user_id, defaults), now)


REFIT_ACTOR = "queue.refit_models"


def refit_model(session: Session, user_id: int, rules: QueueRules, now: datetime) -> bool:
    """Fit the user's model as of `now` when the kept one is not the one a read at `now`
    wants (a new day's training cut-off, an answer since); True when it was fitted.

    Only where the statistics still hold at `now`: otherwise the derivation's refresh (or the
    next current read) builds both. Serialised per user by the user's row lock, as refresh."""
    if not _stale(session, user_id, rules, now):
        return False
    # Stale: the lock, then a second look (a refresh or another job may have come first).
    session.execute(select(User.id).where(User.id == user_id).with_for_update())
    session.expire_all()
    if not _stale(session, user_id, rules, now):
        return False
    state = session.get(QueueState, user_id)
    assert state is not None
    key = _model_key(session, user_id, state, rules, now)
    histories = load_histories(session, user_id, now)
    signals = load_signals(session, user_id, now)
    state.model = _dump(fit_owner_model(histories, now, learning_rules(rules), signals))
    state.model_key = key
    session.flush()
    return True


def _stale(session: Session, user_id: int, rules: QueueRules, now: datetime) -> bool:
    state = session.get(QueueState, user_id)
    if state is None or not _holds(state, _newest_interaction(session, user_id), now):
        return False
    return state.model is None or state.model_key != _model_key(session, user_id, state, rules, now)


def refit_models(
    session_factory: sessionmaker[Session], defaults: QueueRules, now: datetime
) -> list[int]:
    """The worker's periodic job: every user's model brought up to `now` (refit_model), each
    in a transaction of its own, so the first read of a day or after an answer only reads.
    Returns the users whose model was fitted."""
    with session_factory() as session:
        users = session.scalars(select(QueueState.user_id).order_by(QueueState.user_id)).all()
    fitted: list[int] = []
    for user_id in users:
        with session_factory() as session, session.begin():
            if session.get(User, user_id) is None:
                continue
            rules = queue_rules_for(session, user_id, defaults)
            if refit_model(session, user_id, rules, now):
                fitted.append(user_id)
    return fitted
