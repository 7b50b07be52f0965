"""The served window: calls are counted from their answer, the latest moment Gmail can have
charged them, so latency can never make two windows' worth land in one of Gmail's."""

from __future__ import annotations

import pytest

from keepwarm.connectors.google.pacing import ServedWindow


class Clock:
    """Time that moves when the window sleeps, or when a test's call "takes" time."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_a_call_counts_from_its_answer_not_from_when_it_was_sent() -> None:
    clock = Clock()
    window = ServedWindow(250, clock=clock, sleep=clock.sleep)
    with window.calling(200):
        clock.now += 0.3  # Gmail may have charged it as late as the answer, at 100.3
    with window.calling(50):  # still fits beside it
        pass
    assert clock.now == pytest.approx(100.3)
    with window.calling(200):
        # Sent only once the first call's answer is a full second old (not at 101.0)
        assert clock.now == pytest.approx(101.3)


def test_a_failed_call_is_counted_too() -> None:
    clock = Clock()
    window = ServedWindow(250, clock=clock, sleep=clock.sleep)
    with pytest.raises(TimeoutError), window.calling(240):
        clock.now += 0.5
        raise TimeoutError  # Gmail may still have served it
    assert window.held() == 240
    with window.calling(20):
        assert clock.now == pytest.approx(101.5)


def test_small_calls_fill_the_window_before_any_waits() -> None:
    clock = Clock()
    window = ServedWindow(250, clock=clock, sleep=clock.sleep)
    for _ in range(10):
        with window.calling(25):
            pass
    assert clock.now == 100.0 and window.held() == 250
    with window.calling(5):
        assert clock.now == pytest.approx(101.0)


def test_a_call_larger_than_the_window_is_refused() -> None:
    window = ServedWindow(250)
    with pytest.raises(ValueError), window.calling(251):
        pass
