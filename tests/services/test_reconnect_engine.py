"""The reconnect engine on hand-built histories: who is due, in what order, and why."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from keepwarm.services.reconnect import QueueRules, compute_stats
from keepwarm.services.reconnect.engine import describe_gap, rank_suggestions
from tests.support.builders import T0, history


def test_cadence_is_learned_from_gaps_between_distinct_days() -> None:
    # Given weekly contact, twice on one of the days
    stats = compute_stats(history(1, [0, 7, 7, 14, 21, 28]))
    # Then the same day counts once and the usual gap is a week
    assert stats.distinct_days == 5
    assert stats.typical_gap_days == 7.0
    assert stats.emails_sent == 6


def test_too_little_history_learns_no_cadence() -> None:
    assert compute_stats(history(1, [0, 30])).typical_gap_days is None


def test_due_only_past_the_floor() -> None:
    rules = QueueRules(floor_months=3)
    weekly = compute_stats(history(1, [0, 7, 14, 21]))
    recent = compute_stats(history(2, [0, 7, 14, 21, 80]))
    as_of = T0 + timedelta(days=21 + 100)  # weekly: 100 days silent, past the 91-day floor
    ranked = rank_suggestions([weekly, recent], as_of, rules)
    # recent: 41 days silent, far past its weekly rhythm but inside the floor
    assert [s.stats.history.person_id for s in ranked] == [1]


def test_a_slow_rhythm_is_not_overdue_before_its_usual_gap() -> None:
    rules = QueueRules(floor_months=3)
    every_5_months = compute_stats(history(2, [0, 150, 300]))
    assert rank_suggestions([every_5_months], T0 + timedelta(days=300 + 140), rules) == []
    due = rank_suggestions([every_5_months], T0 + timedelta(days=300 + 160), rules)
    assert len(due) == 1


def test_received_only_mail_is_never_suggested() -> None:
    inbound = compute_stats(history(3, [0, 10, 20, 30], kind="received"))
    assert not inbound.is_relationship
    assert rank_suggestions([inbound], T0 + timedelta(days=900), QueueRules()) == []


def test_strong_tie_outranks_faint_one_gone_quieter() -> None:
    strong = compute_stats(history(1, list(range(0, 400, 10)), name="Strong"))
    faint = compute_stats(history(2, [0, 5]))
    as_of = T0 + timedelta(days=800)
    ranked = rank_suggestions([faint, strong], as_of, QueueRules())
    assert [s.stats.history.name for s in ranked] == ["Strong", None]


def test_one_to_one_counts_more_than_a_group_mail() -> None:
    alone = compute_stats(history(1, [0, 30, 60], size=1))
    crowd = compute_stats(history(2, [0, 30, 60], size=9))
    assert alone.strength > crowd.strength


def test_why_line_of_someone_nothing_raised_says_they_are_due_and_the_last_exchange() -> None:
    # Alone in the queue, nobody is above the queue's average: no model factor is claimed
    # (tests/services/test_learning.py covers the reasons the model gives)
    stats = compute_stats(history(1, [0, 21, 42, 63]))
    [s] = rank_suggestions([stats], T0 + timedelta(days=63 + 150), QueueRules())
    assert s.why == "silent 5 months, past 3 months; last: 'subject 63', 2001-03-05"
    assert s.months_silent == 4.9


@settings(deadline=None)  # each queue fits the owner's model (scikit-learn)
@given(
    st.lists(st.integers(min_value=0, max_value=3000), min_size=1, max_size=40),
    st.integers(min_value=0, max_value=5000),
)
def test_queue_never_suggests_anyone_inside_the_floor(days: list[int], later: int) -> None:
    stats = compute_stats(history(1, sorted(days)))
    as_of = stats.last_at + timedelta(days=later)
    for s in rank_suggestions([stats], as_of, QueueRules(floor_months=3)):
        assert s.days_silent > 3 * 30.44
        assert s.days_silent > (s.stats.typical_gap_days or 0)
        assert s.score >= 0


def test_describe_gap_reads_like_a_person() -> None:
    assert describe_gap(1) == "~1 day"
    assert describe_gap(8) == "~8 days"
    assert describe_gap(10) == "~1 week"
    assert describe_gap(21) == "~3 weeks"
    assert describe_gap(150) == "~5 months"
    assert describe_gap(1000) == "~3 years"
