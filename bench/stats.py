"""Pure statistics the benchmarks share: sliding windows, per-second bins, robust summaries."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence


def max_in_window(times: Iterable[float], window: float = 1.0) -> int:
    """The most events inside any half-open window [t, t + window), over every start t.

    The maximum is always reached by a window that starts at an event, so only those are tried
    (two pointers over the sorted times: O(n log n)).
    """
    ordered = sorted(times)
    best = 0
    end = 0
    for start, first in enumerate(ordered):
        end = max(end, start)
        while end < len(ordered) and ordered[end] < first + window:
            end += 1
        best = max(best, end - start)
    return best


def per_second(times: Iterable[float], origin: float) -> list[int]:
    """Counts per whole second since `origin` (bin k holds origin + k <= t < origin + k + 1)."""
    counts: list[int] = []
    for t in times:
        k = math.floor(t - origin)
        if k < 0:
            continue
        if k >= len(counts):
            counts.extend([0] * (k + 1 - len(counts)))
        counts[k] += 1
    return counts


def achieved_rate(times: Sequence[float]) -> float:
    """Events per second from the first to the last event: (n - 1) intervals over the span."""
    if len(times) < 2:
        return 0.0
    span = max(times) - min(times)
    return (len(times) - 1) / span if span > 0 else math.inf


def median(values: Iterable[float]) -> float:
    data = list(values)
    return statistics.median(data) if data else math.nan


def spread(values: Sequence[float]) -> float:
    """Relative half inter-quartile range: a noise figure to print beside a median."""
    if len(values) < 4:
        return math.nan
    q1, _, q3 = statistics.quantiles(values, n=4)
    mid = statistics.median(values)
    return (q3 - q1) / 2 / mid if mid else math.nan


def ratio(measured: float, baseline: float) -> float:
    return measured / baseline if baseline else math.inf
