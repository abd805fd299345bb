"""A small in-process rate limiter (sliding window per key) for the public receipt lookup.

Why in-process: the lookup is the only unauthenticated read, its codes are 160 random bits (so
the limit is there against scraping and load, not to make guessing hard), and one API process per
host is how the project runs. With several API replicas each counts on its own: the effective
limit is the per-process limit times the replicas; a shared limiter (a proxy's, or Redis) would
be the next step. Memory is bounded: at most `max_keys` clients are tracked, the least recently
seen dropped first.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable


class SlidingWindowLimiter:
    def __init__(
        self,
        limit: int,
        period: float = 60.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
    ) -> None:
        if limit < 1 or period <= 0:
            raise ValueError("limit must be ≥ 1 and period > 0")
        self.limit, self.period, self._clock, self._max_keys = limit, period, clock, max_keys
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()

    def hit(self, key: str) -> float | None:
        """Count one request of `key`: None if allowed, else the seconds until the next one is."""
        now = self._clock()
        hits = self._hits.pop(key, None) or deque()
        while hits and hits[0] <= now - self.period:
            hits.popleft()
        self._hits[key] = hits  # most recently seen last
        if len(hits) >= self.limit:
            return max(hits[0] + self.period - now, 0.001)
        hits.append(now)
        while len(self._hits) > self._max_keys:
            self._hits.popitem(last=False)
        return None
