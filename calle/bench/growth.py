"""How a stage's time grows with the number of workplaces: the exponent of a power law.

Fitted by least squares on log(seconds) against log(size). An n log n stage shows an
exponent a little above 1 over a finite range of sizes (``n_log_n_exponent`` says how much
over the same sizes), so a stage is called faster than n log n only past that, with a
margin for the noise of timing small sizes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

#: Exponent above n log n's own over the same sizes that still counts as n log n: small
#: sizes carry fixed costs (process start, imports) that bend a fit either way.
TOLERANCE = 0.15


def growth_exponent(sizes: Sequence[float], seconds: Sequence[float]) -> float:
    """The slope of log(seconds) on log(sizes); needs two or more distinct sizes."""
    if len(sizes) != len(seconds):
        raise ValueError("one time per size")
    if len(set(sizes)) < 2:
        raise ValueError("a growth exponent needs at least two distinct sizes")
    if min(sizes) <= 0 or min(seconds) <= 0:
        raise ValueError("sizes and times must be positive")
    xs = [math.log(s) for s in sizes]
    ys = [math.log(t) for t in seconds]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    covariance = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    variance = sum((x - mean_x) ** 2 for x in xs)
    return covariance / variance


def n_log_n_exponent(sizes: Sequence[float]) -> float:
    """The exponent an exactly n log n cost shows when fitted over ``sizes``."""
    return growth_exponent(sizes, [s * math.log(s) for s in sizes])


def grows_faster_than_n_log_n(sizes: Sequence[float], seconds: Sequence[float]) -> bool:
    return growth_exponent(sizes, seconds) > n_log_n_exponent(sizes) + TOLERANCE
