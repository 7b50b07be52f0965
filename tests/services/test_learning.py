"""The learned order on small hand-built histories: features, examples, fit, prior, why-lines."""

from __future__ import annotations

import itertools
import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keepwarm.services.reconnect import ContactHistory, InteractionPoint, QueueRules, compute_stats
from keepwarm.services.reconnect.engine import rank_suggestions
from keepwarm.services.reconnect.learning import OwnerSignals, fit_owner_model, rank_due
from keepwarm.services.reconnect.learning.examples import (
    ANSWER_WEIGHTS,
    Answer,
    ExampleRules,
    answer_examples,
    history_examples,
    training_cutoffs,
)
from keepwarm.services.reconnect.learning.explain import reasons
from keepwarm.services.reconnect.learning.features import FEATURES, Tracker, snapshot_at, timelines
from keepwarm.services.reconnect.learning.model import FitRules, LinearModel, fit_model
from keepwarm.services.reconnect.learning.prior import load_prior
from keepwarm.services.reconnect.learning.ranker import LearningRules, Ranked

# Ends of days, as `--as-of` gives: the training cut-offs fall on them (examples.day_end).
T0 = datetime(2001, 1, 1, 23, 59, 59, 999999, tzinfo=UTC)
FLOOR = 91.32


def at(day: float) -> datetime:
    return T0 + timedelta(days=day)


def history(
    pid: int,
    days: list[float],
    kind: str = "sent",
    size: int = 1,
    source: str | None = None,
) -> ContactHistory:
    points = tuple(
        InteractionPoint(at(d), kind, size, f"subject {d}", f"{source}{d}" if source else None)
        for d in days
    )
    return ContactHistory(pid, None, (f"p{pid}@example.com",), points)


def merge(*parts: ContactHistory) -> ContactHistory:
    points = tuple(sorted((p for h in parts for p in h.points), key=lambda p: p.at))
    return ContactHistory(parts[0].person_id, None, parts[0].addresses, points)


def write_prior(path: Path, coef: dict[str, float], intercept: float = -2.0) -> Path:
    features = list(coef)
    model = LinearModel(
        tuple(features),
        tuple(0.0 for _ in features),
        tuple(1.0 for _ in features),
        tuple(coef[f] for f in features),
        intercept,
        1000.0,
    )
    path.write_text(json.dumps({"model": model.to_json()}))
    return path


# --------------------------------------------------------------------------- features


def test_features_read_silence_decayed_volume_and_counts() -> None:
    [line] = timelines([history(1, [0, 10, 20])])
    snap = snapshot_at(line, at(20 + 120))
    assert snap is not None
    assert snap.silence_days == pytest.approx(120)
    assert snap.value("log_silence") == pytest.approx(math.log1p(120))
    # Interactions Rank with w_out = 2 and a 30-day half-life, as a logarithm
    expected = sum(2 * 0.5 ** ((140 - d) / 30) for d in (0, 10, 20))
    assert snap.value("recent_30") == pytest.approx(math.log(expected))
    assert snap.value("sent") == pytest.approx(math.log1p(3))
    assert snap.value("one_to_one") == 1.0
    assert snap.value("wrote_last") == 1.0
    assert snap.typical_gap_days == 10.0
    assert snap.value("overdue") == pytest.approx(math.log(120 / 10))


def test_longest_gap_compares_the_silence_with_the_longest_quiet_so_far() -> None:
    [line] = timelines([history(1, [0, 200, 210])])
    snap = snapshot_at(line, at(210 + 100))
    assert snap is not None and snap.longest_gap_days == 200
    assert snap.value("longest_gap") == pytest.approx(math.log(100 / 200))


def test_circle_counts_people_on_the_same_mails_before_the_moment() -> None:
    # Given one mail to two people on day 0, and a second mail to one of them with a third
    a = history(1, [0, 50], source="m")
    b = history(2, [0], source="m")
    c = history(3, [50], source="m")
    lines = {line.history.person_id: line for line in timelines([a, b, c])}
    early = snapshot_at(lines[1], at(10))
    late = snapshot_at(lines[1], at(60))
    assert early is not None and late is not None
    assert early.circle == 1 and late.circle == 2


def test_appearances_beyond_interactions_show_a_person_still_around() -> None:
    h = history(1, [0])
    quiet = snapshot_at(timelines([h], {})[0], at(200))
    around = snapshot_at(timelines([h], {1: [at(150), at(190)]})[0], at(200))
    assert quiet is not None and around is not None
    assert quiet.seen_90_days == 0 and around.seen_90_days == 2
    assert around.value("seen_silence") == pytest.approx(math.log1p(10))
    assert around.value("seen_90") > quiet.value("seen_90")
    # Appearances after the moment are not read
    assert snapshot_at(timelines([h], {1: [at(300)]})[0], at(200)) == quiet


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(0, 400), min_size=1, max_size=25),
    st.lists(st.integers(0, 500), min_size=1, max_size=6),
)
def test_one_pass_over_many_cutoffs_equals_a_fresh_snapshot_at_each(
    days: list[int], cuts: list[int]
) -> None:
    h = merge(history(1, sorted(days[::2])), history(1, sorted(days[1::2]), kind="received"))
    [line] = timelines([h])
    tracker = Tracker(line)
    for cut in sorted(set(cuts)):
        tracker.advance(at(cut))
        fresh = snapshot_at(line, at(cut))
        if fresh is None:
            assert tracker.last_at is None
            continue
        assert tracker.snapshot(at(cut)).values == pytest.approx(fresh.values)


# --------------------------------------------------------------------------- examples


def test_cutoffs_leave_the_horizon_before_the_as_of_date() -> None:
    rules = ExampleRules(step_days=30, min_history_days=60)
    cuts = training_cutoffs(at(0), at(400), rules)
    assert cuts == sorted(cuts)
    assert cuts[-1] == at(400 - 90)
    assert cuts[0] >= at(60)
    assert all(b - a == timedelta(days=30) for a, b in itertools.pairwise(cuts))


def test_examples_are_due_contacts_labelled_by_whether_the_owner_wrote_again() -> None:
    came_back = history(1, [0, 7, 14, 200])  # silent 100+ days at day 110, back at 200
    never = history(2, [0, 7, 14])
    inbound = history(3, [0, 7, 14, 200], kind="received")  # no relationship
    rules = ExampleRules(step_days=10, min_history_days=60, min_owner_messages=1)
    examples = history_examples(timelines([came_back, never, inbound]), at(300), rules)
    labels = {(e.person_id, e.at): e.label for e in examples}
    assert {pid for pid, _ in labels} == {1, 2}
    assert labels[(1, at(210 - 100))] == 1  # silent 96 days at day 110, back on day 200
    assert all(label == 0 for (pid, _), label in labels.items() if pid == 2)


def test_examples_never_read_past_the_as_of_date() -> None:
    rules = ExampleRules(step_days=10, min_history_days=60, min_owner_messages=1)
    before = history(1, [0, 7, 14])
    after = history(1, [0, 7, 14, 260])  # the return happens after the as-of date
    other = history(2, [0, 7, 14, 150])  # a return inside the known past, so cut-offs count
    old = history_examples(timelines([before, other]), at(250), rules)
    new = history_examples(timelines([after, other]), at(250), rules)
    assert old == new


def test_cutoffs_where_nobody_came_back_teach_nothing() -> None:
    rules = ExampleRules(step_days=10, min_history_days=60, min_owner_messages=1)
    assert history_examples(timelines([history(1, [0, 7, 14])]), at(400), rules) == []


def test_cutoffs_whose_horizon_holds_almost_no_owner_mail_are_gaps() -> None:
    # One contact came back on day 200, but the owner wrote nothing else in those months
    came_back = history(1, [0, 7, 14, 200])
    busy = [history(i, [150 + i], source="m") for i in range(2, 12)]  # ten mails, days 152-161
    lines = timelines([came_back, *busy])
    quiet = ExampleRules(step_days=10, min_history_days=60, min_owner_messages=12)
    assert history_examples(lines, at(300), quiet) == []
    usual = ExampleRules(step_days=10, min_history_days=60)
    kept = {e.at for e in history_examples(lines, at(300), usual)}
    # Kept: only cut-offs whose 90 days hold the ten mails and the return (11 messages)
    assert kept and all(at(200 - 90) <= cut < at(152) for cut in kept)


def test_answers_are_weighted_examples_from_just_before_them() -> None:
    h = merge(history(1, [0, 7, 14]), history(1, [130], kind="elsewhere"))
    lines = timelines([h, history(2, [0, 3])])
    answers = [
        Answer(1, "talked_elsewhere", at(130)),
        Answer(2, "stop", at(120)),
        Answer(2, "snooze", at(125)),
        Answer(2, "resume", at(126)),
        Answer(2, "done", at(400)),  # after the as-of date: unseen
    ]
    examples = answer_examples(lines, answers, at(200))
    got = [(e.person_id, e.label, e.weight, e.source) for e in examples]
    assert got == [
        (2, 0, ANSWER_WEIGHTS["stop"][1], "stop"),
        (2, 0, ANSWER_WEIGHTS["snooze"][1], "snooze"),
        (1, 1, ANSWER_WEIGHTS["talked_elsewhere"][1], "talked_elsewhere"),
    ]
    assert ANSWER_WEIGHTS["stop"][1] > ANSWER_WEIGHTS["done"][1] > ANSWER_WEIGHTS["snooze"][1]
    # The talked-elsewhere interaction at the answer itself is not part of its features
    talked = examples[-1]
    assert talked.values[FEATURES.index("log_silence")] == pytest.approx(math.log1p(116))


# --------------------------------------------------------------------------- the fit


def _rows(n: int, seed: int) -> tuple[np.ndarray, list[int]]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    y = [int(v) for v in (x[:, 0] - x[:, 1] + rng.normal(scale=0.5, size=n) > 0)]
    return x, y


def test_without_own_examples_the_fit_is_the_prior() -> None:
    prior = LinearModel(("a", "b"), (0.0, 0.0), (1.0, 1.0), (0.5, 0.0), -1.0, 10.0)
    empty = np.zeros((0, 2))
    assert fit_model(("a", "b"), empty, [], [], prior, FitRules()) == prior
    assert fit_model(("a", "b"), empty, [], [], None, FitRules()) is None


def test_own_examples_move_the_fit_from_the_prior_as_they_grow() -> None:
    # The prior says only "a" matters; this owner's data says "b" counts against
    prior = LinearModel(("a", "b"), (0.0, 0.0), (1.0, 1.0), (1.0, 0.0), 0.0, 1000.0)
    x, y = _rows(400, seed=1)
    rules = FitRules(prior_weight=2000)

    def b_over_a(n: int) -> float:
        model = fit_model(("a", "b"), x[:n], y[:n], [1.0] * n, prior, rules)
        assert model is not None
        raw = np.asarray(model.coef) / np.asarray(model.scale)
        return float(raw[1] / raw[0])

    few, many = b_over_a(20), b_over_a(400)
    assert -0.1 < few < 0  # barely moved from the prior's 0
    assert many < few  # more of the owner's own history, further from the prior
    # Alone, the owner's data says b = -a: the shrunk fit stays between prior and data
    alone = fit_model(("a", "b"), x, y, [1.0] * 400, None, FitRules())
    assert alone is not None
    raw = np.asarray(alone.coef) / np.asarray(alone.scale)
    assert raw[1] / raw[0] < many


def test_the_fit_is_deterministic() -> None:
    prior = LinearModel(("a", "b"), (0.0, 0.0), (1.0, 1.0), (1.0, 0.0), 0.0, 1000.0)
    x, y = _rows(200, seed=2)
    one = fit_model(("a", "b"), x, y, [1.0] * 200, prior, FitRules())
    two = fit_model(("a", "b"), x.copy(), list(y), [1.0] * 200, prior, FitRules())
    assert one == two


def test_the_fit_does_not_depend_on_the_order_of_its_examples() -> None:
    # Two databases holding the same mail number people differently, so the examples come
    # in another order: the model (and the `--as-of` queue) must be the same, to the bit
    prior = LinearModel(("a", "b"), (0.0, 0.0), (1.0, 1.0), (1.0, 0.0), 0.0, 1000.0)
    x, y = _rows(300, seed=3)
    weights = np.linspace(0.5, 1.5, 300)
    shuffled = np.random.default_rng(4).permutation(300)
    one = fit_model(("a", "b"), x, y, weights.tolist(), prior, FitRules())
    two = fit_model(
        ("a", "b"),
        x[shuffled],
        [y[i] for i in shuffled],
        weights[shuffled].tolist(),
        prior,
        FitRules(),
    )
    assert one == two


def test_a_model_round_trips_through_json_and_reorders_onto_other_features() -> None:
    model = LinearModel(("a", "b"), (0.5, 1.0), (2.0, 3.0), (0.25, -1.0), -0.5, 12.0)
    assert LinearModel.from_json(json.loads(json.dumps(model.to_json()))) == model
    wider = model.reorder(("c", "b", "a"))
    assert wider.coef == (0.0, -1.0, 0.25) and wider.scale == (1.0, 3.0, 2.0)
    row = np.asarray([[7.0, 4.0, 1.5]])
    assert wider.logits(row)[0] == pytest.approx(model.logits(np.asarray([[1.5, 4.0]]))[0])


# --------------------------------------------------------------------------- the prior


def test_the_shipped_prior_loads_and_uses_known_features() -> None:
    prior = load_prior()
    assert prior.features and set(prior.features) <= set(FEATURES)
    assert all(s > 0 for s in prior.scale)


def test_a_broken_prior_file_is_refused_with_its_name(tmp_path: Path) -> None:
    bad = tmp_path / "prior.json"
    bad.write_text(
        '{"model": {"features": ["nonsense"], "center": [0], "scale": [1], '
        '"coef": [1], "intercept": 0, "examples": 0}}'
    )
    with pytest.raises(ValueError, match="unknown features nonsense"):
        load_prior(bad)
    bad.write_text("{}")
    with pytest.raises(ValueError, match=str(bad)):
        load_prior(bad)


# --------------------------------------------------------------------------- why-lines


def test_reasons_name_only_features_the_model_uses_that_raised_the_person() -> None:
    model = LinearModel(("circle", "log_silence"), (0.0, 0.0), (1.0, 1.0), (1.0, -1.0), 0.0, 100.0)
    [line] = timelines([history(1, [0, 10], source="m"), history(2, [0], source="m")])[:1]
    snap = snapshot_at(line, at(150))
    assert snap is not None
    row = [snap.value("circle"), snap.value("log_silence")]
    # Against a queue whose average person has no circle and a longer silence: both raised
    told = reasons(model, row, [0.0, row[1] + 1.0], snap)
    assert [r.story for r in told] == ["silence", "circle"]
    assert told[1].text == "written to with one other person you write to"
    assert told[0].text.startswith("silent 5 months")
    # Against one with a bigger circle and a shorter silence: nothing raised them
    assert reasons(model, row, [row[0] + 1.0, row[1] - 1.0], snap) == []
    # Volume, replies, direction... are never told by a model without those features
    assert all(r.story in {"circle", "silence"} for r in told)


def test_the_history_story_quotes_the_persons_own_figures() -> None:
    model = LinearModel(("recent_365",), (0.0,), (1.0,), (1.0,), 0.0, 100.0)
    [line] = timelines([history(1, [0, 30, 60, 240])])
    snap = snapshot_at(line, at(400))
    assert snap is not None
    [told] = reasons(model, [snap.value("recent_365")], [-5.0], snap)
    assert told.text == "you wrote 4 times over 8 months"


# --------------------------------------------------------------------------- the queue


def test_the_queue_follows_the_learned_model_and_says_why(tmp_path: Path) -> None:
    prior = write_prior(tmp_path / "prior.json", {"seen_90": 1.0, "log_silence": -0.2})
    rules = QueueRules(ranker_prior=prior)
    vanished = compute_stats(history(1, [0, 7, 14]))
    around = compute_stats(history(2, [0, 7, 14]))
    signals = OwnerSignals(appearances={2: (at(100), at(110), at(130))})
    ranked = rank_suggestions([vanished, around], at(150), rules, signals=signals)
    assert [s.stats.history.person_id for s in ranked] == [2, 1]
    assert ranked[0].score > ranked[1].score
    assert ranked[0].why.startswith("still around: on 3 messages in the last 3 months")
    assert "still around" not in ranked[1].why


def test_the_same_input_gives_the_same_queue() -> None:
    contacts = [compute_stats(history(i, [0, 5 * i, 9 * i + 1])) for i in range(1, 9)]
    first = rank_suggestions(contacts, at(300), QueueRules())
    again = rank_suggestions(list(reversed(contacts)), at(300), QueueRules())
    assert [(s.stats.history.person_id, s.score, s.why) for s in first] == [
        (s.stats.history.person_id, s.score, s.why) for s in again
    ]


def test_answers_enter_the_owners_fit_only_when_learning_from_them(tmp_path: Path) -> None:
    prior = write_prior(tmp_path / "prior.json", {"one_to_one": 0.0, "log_silence": -0.1})
    histories = [history(i, [0, 3, 6], size=1 if i % 2 else 4) for i in range(1, 21)]
    # The owner said "done" to every one-to-one contact and "stop" to every group one
    answers = tuple(
        Answer(h.person_id, "done" if h.person_id % 2 else "stop", at(120)) for h in histories
    )
    signals = OwnerSignals(answers=answers)
    on = fit_owner_model(histories, at(130), LearningRules(prior_path=prior), signals)
    off = fit_owner_model(
        histories, at(130), LearningRules(prior_path=prior, learn_from_answers=False), signals
    )
    assert on.coef[on.features.index("one_to_one")] > 0.1
    assert off.coef[off.features.index("one_to_one")] == pytest.approx(0.0, abs=1e-6)
    due = rank_due(histories, [1, 2], at(130), LearningRules(prior_path=prior), signals)
    assert due[1].probability > due[2].probability


def test_a_pages_rows_worked_out_at_once_tell_each_person_as_their_own_would() -> None:
    # Given people scored at once, each with the row over every feature worked out with the
    # others (what the queue hands its why-lines)
    histories = [history(i, [0, 4 * i, 9 * i + 1, 15 * i]) for i in range(1, 12)]
    moment = at(400)
    ranked = rank_due(histories, [h.person_id for h in histories], moment, LearningRules())
    for person in ranked.values():
        # When the same person's row is worked out alone, as it was before
        alone = Ranked(
            person.person_id,
            person.probability,
            person._model,
            person._row,
            person._reference,
            person._aggregate,
            moment,
        )
        # Then the snapshot and the reasons told are the same
        assert person.snapshot.values == pytest.approx(alone.snapshot.values, rel=1e-12)
        assert [r.text for r in person.reasons] == [r.text for r in alone.reasons]
        assert person.snapshot.silence_days == alone.snapshot.silence_days
