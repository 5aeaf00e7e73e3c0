import math

import pytest

from calle.bench.growth import (
    TOLERANCE,
    grows_faster_than_n_log_n,
    growth_exponent,
    n_log_n_exponent,
)

SIZES = [10_000, 100_000, 1_000_000]


@pytest.mark.parametrize("power", [0.5, 1.0, 2.0])
def test_a_power_law_gives_back_its_exponent(power):
    assert growth_exponent(SIZES, [3e-6 * n**power for n in SIZES]) == pytest.approx(power)


def test_n_log_n_fits_a_little_above_one_over_a_finite_range():
    exponent = n_log_n_exponent(SIZES)
    assert 1.05 < exponent < 1.2
    assert exponent == pytest.approx(growth_exponent(SIZES, [n * math.log(n) for n in SIZES]))


def test_linear_and_n_log_n_pass_and_quadratic_fails():
    assert not grows_faster_than_n_log_n(SIZES, [n * 1e-5 for n in SIZES])
    assert not grows_faster_than_n_log_n(SIZES, [n * math.log(n) * 1e-6 for n in SIZES])
    assert grows_faster_than_n_log_n(SIZES, [n**1.5 * 1e-7 for n in SIZES])
    limit = n_log_n_exponent(SIZES) + TOLERANCE
    assert grows_faster_than_n_log_n(SIZES, [n ** (limit + 0.05) for n in SIZES])
    assert not grows_faster_than_n_log_n(SIZES, [n ** (limit - 0.05) for n in SIZES])


@pytest.mark.parametrize(
    ("sizes", "seconds"),
    [([10, 10], [1.0, 2.0]), ([10], [1.0]), ([10, 100], [1.0]), ([0, 100], [1.0, 2.0])],
)
def test_an_exponent_needs_two_positive_sizes_with_a_time_each(sizes, seconds):
    with pytest.raises(ValueError):
        growth_exponent(sizes, seconds)
