"""Slopes from fake timings: exact on clean data, robust to disturbed samples."""

from __future__ import annotations

import math

import pytest

from wasm_advisor.harness._statistics import fit_slope, median_spread


def test_exact_line() -> None:
    fit = fit_slope([(n, 500 + 3.0 * n) for n in (100, 200, 400) for _ in range(3)])
    assert fit.slope == pytest.approx(3.0)
    assert fit.intercept == pytest.approx(500)
    assert fit.spread == pytest.approx(0.0)
    assert fit.runs == 9 and fit.sizes == (100, 200, 400)
    assert fit.predict(1000) == pytest.approx(3500)


def test_a_disturbed_minority_does_not_move_the_slope() -> None:
    samples = [(n, 1000 + 2.0 * n) for n in (1000, 2000, 4000) for _ in range(5)]
    samples[3] = (1000, 50_000)  # a context switch
    samples[11] = (4000, 900_000)  # a page-fault storm
    fit = fit_slope(samples)
    assert fit.slope == pytest.approx(2.0, rel=0.02)


def test_intercept_absorbs_the_fixed_cost_of_measuring() -> None:
    # the clock read costs 40 ns: per-iteration cost must not include it
    fit = fit_slope([(n, 40 + 1.5 * n) for n in (64, 128, 256)])
    assert fit.slope == pytest.approx(1.5)
    assert fit.intercept == pytest.approx(40)


def test_noise_shows_in_the_spread() -> None:
    noisy = [(n, n * (1 + 0.2 * ((i % 3) - 1))) for i, n in enumerate([10, 20, 40] * 4)]
    assert fit_slope(noisy).spread > 0.1


def test_one_size_is_not_a_slope() -> None:
    with pytest.raises(ValueError, match="two or more sizes"):
        fit_slope([(100, 5.0), (100, 6.0)])


def test_non_finite_samples_are_dropped() -> None:
    fit = fit_slope([(1, 1.0), (2, 2.0), (3, math.nan), (4, 4.0)])
    assert fit.slope == pytest.approx(1.0) and fit.runs == 3


def test_median_spread() -> None:
    median, spread = median_spread([10.0, 10.0, 12.0, 8.0, 10.0])
    assert median == 10.0
    assert spread == pytest.approx(0.0)
    with pytest.raises(ValueError):
        median_spread([])
