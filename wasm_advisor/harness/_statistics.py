"""Slopes from samples: the per-operation cost is how time grows with the work.

Measurements arrive as ``(size, ns)`` pairs: loop iterations, code bytes,
memory pages. The slope of ``ns`` against ``size`` is the cost per unit; the
intercept is the fixed cost of measuring (reading the clock, starting a
process) and is reported, not mixed in.

The fit is Theil–Sen: the median of the slopes between every pair of samples
at different sizes. It ignores a minority of disturbed samples (a context
switch, a page fault) without any tuning, and is deterministic.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from itertools import combinations

__all__ = ["SlopeFit", "fit_slope", "median_spread"]


@dataclass(frozen=True)
class SlopeFit:
    """``ns ≈ intercept + slope × size``, with the spread of the pairwise slopes."""

    slope: float  # ns per unit of size
    intercept: float  # ns
    spread: float  # relative: interquartile range of pairwise slopes / |slope|
    runs: int  # samples used
    sizes: tuple[float, ...]  # the distinct sizes measured

    def predict(self, size: float) -> float:
        return self.intercept + self.slope * size


def _quartiles(values: list[float]) -> tuple[float, float]:
    if len(values) < 2:
        return values[0], values[0]
    q = statistics.quantiles(values, n=4, method="inclusive")
    return q[0], q[2]


def fit_slope(samples: list[tuple[float, float]]) -> SlopeFit:
    """Fit ``ns`` against ``size``; needs samples at two or more distinct sizes."""
    clean = [(float(s), float(t)) for s, t in samples if math.isfinite(s) and math.isfinite(t)]
    sizes = sorted({s for s, _ in clean})
    if len(sizes) < 2:
        raise ValueError(f"a slope needs samples at two or more sizes, got {sizes}")
    slopes = [(t2 - t1) / (s2 - s1) for (s1, t1), (s2, t2) in combinations(clean, 2) if s1 != s2]
    slope = statistics.median(slopes)
    intercept = statistics.median(t - slope * s for s, t in clean)
    low, high = _quartiles(slopes)
    spread = (high - low) / abs(slope) if slope else math.inf
    return SlopeFit(slope, intercept, spread, len(clean), tuple(sizes))


def median_spread(values: list[float]) -> tuple[float, float]:
    """The median and the relative interquartile range of ``values``."""
    if not values:
        raise ValueError("no values")
    median = statistics.median(values)
    low, high = _quartiles(list(values))
    return median, ((high - low) / abs(median) if median else 0.0)
