"""The user's answers as the engine applies them: snooze, done, talked elsewhere, stop."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from keepwarm.services.reconnect import QueueRules, compute_stats
from keepwarm.services.reconnect.engine import dormant_ties, rank_suggestions
from keepwarm.services.reconnect.lifecycle import ContactState
from tests.support.builders import T0, history

WEEKLY = compute_stats(history(1, [0, 7, 14, 21]))
AS_OF = T0 + timedelta(days=21 + 120)  # 120 days silent: due


def queue(state: ContactState, as_of: datetime = AS_OF) -> list[int]:
    ranked = rank_suggestions([WEEKLY], as_of, QueueRules(), {1: state})
    return [s.stats.history.person_id for s in ranked]


def test_no_answer_means_due() -> None:
    assert queue(ContactState()) == [1]


def test_stop_keeps_them_out() -> None:
    assert queue(ContactState(stopped=True)) == []


def test_snooze_until_a_date_then_back_with_a_stretched_rhythm() -> None:
    snoozed_at = AS_OF - timedelta(days=1)
    state = ContactState(
        snoozed_at=snoozed_at, snoozed_until=AS_OF + timedelta(days=30), cadence_factor=1.5
    )
    assert queue(state) == []
    # After the snooze: due again, but against 1.5x the threshold
    later = AS_OF + timedelta(days=31)
    [s] = rank_suggestions([WEEKLY], later, QueueRules(), {1: state})
    assert s.threshold_days == 3 * 30.44 * 1.5


def test_a_new_contact_resolves_the_snooze() -> None:
    # Snoozed on day 10, then they spoke on day 14 and 21: that silence is what counts now
    state = ContactState(
        snoozed_at=T0 + timedelta(days=10), snoozed_until=AS_OF + timedelta(days=300)
    )
    assert queue(state) == [1]


def test_done_restarts_the_clock_and_rests_them() -> None:
    done_at = AS_OF - timedelta(days=5)
    state = ContactState(touched_at=done_at, cooldown_until=done_at + timedelta(days=30))
    assert queue(state) == []
    # After the cool-down the silence is measured from the reconnect, inside the floor
    assert queue(state, done_at + timedelta(days=60)) == []
    assert queue(state, done_at + timedelta(days=100)) == [1]


def test_levels_due_then_overdue() -> None:
    [due] = rank_suggestions([WEEKLY], T0 + timedelta(days=21 + 100), QueueRules())
    [late] = rank_suggestions([WEEKLY], T0 + timedelta(days=21 + 200), QueueRules())
    assert (due.level, late.level) == ("due", "overdue")


def test_dormant_view_keeps_strong_ties_quiet_for_a_year() -> None:
    strong = compute_stats(history(1, list(range(0, 700, 7)), name="Strong"))
    faint = compute_stats(history(2, [0, 3, 6, 9]))
    recent = compute_stats(history(3, list(range(0, 2000, 7)), name="Recent"))
    as_of = datetime(2007, 1, 1, tzinfo=UTC)
    names = [
        s.stats.history.name
        for s in dormant_ties([strong, faint, recent], as_of, QueueRules(dormant_top_share=0.5))
    ]
    assert names == ["Strong"]
