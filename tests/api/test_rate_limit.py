from __future__ import annotations

import pytest

from api.rate_limit import SlidingWindowLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_allows_the_limit_per_window_then_says_how_long_to_wait():
    clock = Clock()
    limiter = SlidingWindowLimiter(3, 60.0, clock=clock)
    assert [limiter.hit("a") for _ in range(3)] == [None, None, None]
    clock.now += 10
    assert limiter.hit("a") == pytest.approx(50.0)
    assert limiter.hit("b") is None  # another client has its own window
    clock.now += 50.5
    assert limiter.hit("a") is None


def test_tracks_a_bounded_number_of_clients():
    limiter = SlidingWindowLimiter(1, 60.0, clock=Clock(), max_keys=2)
    for key in ("a", "b", "c"):
        assert limiter.hit(key) is None
    assert limiter.hit("a") is None  # "a" was forgotten first
    assert limiter.hit("c") is not None


def test_rejects_a_nonsense_configuration():
    with pytest.raises(ValueError, match="limit"):
        SlidingWindowLimiter(0)
