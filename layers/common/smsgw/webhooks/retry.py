"""When to try a failed webhook again: exponential backoff with jitter, until a horizon.

The nominal wait after the k-th failed attempt of a round is 5 s × 2^(k-1), capped at 15 min
(5, 10, 20, 40, 80, 160, 320, 640, 900, 900, … seconds), as Vonage retries its callbacks. Each
wait is spread by ±20 % jitter (never above the cap) so receivers that come back up are not hit
by every delivery at once. A `Retry-After` from the receiver (429/503) lengthens a wait, never
beyond the cap. No attempt is made later than `horizon` seconds after the round's first attempt.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

START_SECONDS = 5.0
CAP_SECONDS = 900.0  # 15 min, also SQS's longest DelaySeconds
JITTER = 0.2


@dataclass(frozen=True)
class RetryPolicy:
    horizon_seconds: float = 86_400.0
    start_seconds: float = START_SECONDS
    cap_seconds: float = CAP_SECONDS
    jitter: float = JITTER
    # random.uniform(a, b); injected by tests to pin the jitter to its bounds.
    uniform: Callable[[float, float], float] = field(default=random.uniform, compare=False)

    def nominal_wait(self, failed_attempts: int) -> float:
        """The wait after the `failed_attempts`-th failure of a round (1-based), before jitter."""
        exponent = min(max(failed_attempts - 1, 0), 32)  # 2**32 × 5 s is far past any cap
        return min(self.cap_seconds, self.start_seconds * 2**exponent)

    def wait(self, failed_attempts: int, retry_after: float | None = None) -> float:
        nominal = self.nominal_wait(failed_attempts)
        jittered = min(self.cap_seconds, nominal * self.uniform(1 - self.jitter, 1 + self.jitter))
        if retry_after is not None and retry_after > jittered:
            jittered = min(self.cap_seconds, retry_after)
        return jittered

    def next_attempt_at(
        self, *, round_started_at: float, now: float, failed_attempts: int, retry_after: float | None = None
    ) -> float | None:
        """When to try again, or None when that would be past the horizon (the delivery has failed)."""
        at = now + self.wait(failed_attempts, retry_after)
        return at if at - round_started_at <= self.horizon_seconds else None
