"""The accuracy rules: fixed in code, each able to fail."""

from __future__ import annotations

import math

import pytest

from wasm_advisor.verification._accuracy import (
    CLOSE,
    INTERVAL,
    Measured,
    Predicted,
    confidently_inverted,
    coverage,
    interval,
    judge_ranking,
    judge_top_choice,
    leave_one_out,
    log_error_sigma,
    separated,
    startup_close,
)


def test_start_up_within_one_and_a_half_times_either_way() -> None:
    assert CLOSE == 1.5
    assert startup_close(1.5, 1.0) and startup_close(1.0, 1.5)
    assert not startup_close(1.51, 1.0) and not startup_close(1.0, 1.51)
    assert not startup_close(0.0, 1.0)


def test_a_pair_is_separated_only_beyond_ten_percent_and_its_own_spread() -> None:
    assert separated(Measured(100), Measured(115))
    assert not separated(Measured(100), Measured(109))  # within 10 %
    assert not separated(Measured(100, 10), Measured(115, 10))  # within their spreads
    assert separated(Measured(100, 5), Measured(115, 5))


def test_strict_ranking_and_confident_inversions() -> None:
    measured = {"a": Measured(100), "b": Measured(200), "c": Measured(205), "d": Measured(400)}
    # b and c are a measured tie: no order to get wrong
    right = {"a": Predicted(1), "b": Predicted(3), "c": Predicted(8), "d": Predicted(9)}
    verdict = judge_ranking(measured, right)
    assert verdict.strict and verdict.no_confident_inversion
    assert verdict.separated_pairs == 5 and verdict.measured_ties == 1
    # a predicted slower than b: inverted; confidently only where the predictions' own
    # interval excludes the order measured
    unsure = {**right, "a": Predicted(3.3, 0.2), "b": Predicted(3.0, 0.2)}
    verdict = judge_ranking(measured, unsure)
    assert not verdict.strict and verdict.inverted == (("a", "b"),)
    assert verdict.no_confident_inversion
    sure = {**right, "a": Predicted(6.0, 0.05), "b": Predicted(3.0, 0.05)}
    verdict = judge_ranking(measured, sure)
    assert verdict.confident == (("a", "b"),) and not verdict.no_confident_inversion
    assert not confidently_inverted((Measured(100), Measured(105)),
                                    (Predicted(9.0), Predicted(1.0)))  # a measured tie


def test_top_choice_exact_and_in_the_stated_tied_set() -> None:
    assert judge_top_choice(["a"], "a") == judge_top_choice(["a"], "a")
    exact = judge_top_choice(["a", "b"], "a")
    assert exact.exact and exact.in_tied_set and exact.tied_set_size == 2
    tied = judge_top_choice(["a", "b"], "b")
    assert not tied.exact and tied.in_tied_set
    wrong = judge_top_choice(["a", "b"], "c")
    assert not wrong.exact and not wrong.in_tied_set
    assert judge_top_choice([], None).exact  # both: no mode within the limits
    assert not judge_top_choice([], "a").in_tied_set
    assert not judge_top_choice(["a"], None).in_tied_set


def test_coverage_of_the_stated_interval() -> None:
    assert INTERVAL == 0.8
    p = Predicted(100.0, 0.5)
    low, high = interval(p)
    assert low == pytest.approx(100 * math.exp(-1.2816 * 0.5), rel=1e-3)
    assert high == pytest.approx(100 * math.exp(1.2816 * 0.5), rel=1e-3)
    assert coverage([(p, 100.0), (p, high * 1.01), (p, low * 1.01), (p, 10.0)]) == 0.5
    assert coverage([]) is None
    # errors drawn as the stated sigma says are covered about 80 % of the time
    import random

    rng = random.Random(1)
    pairs = [(Predicted(1.0, 0.3), math.exp(rng.gauss(0, 0.3))) for _ in range(4000)]
    assert coverage(pairs) == pytest.approx(0.8, abs=0.03)


def test_log_error_sigma_is_robust_to_one_wild_program() -> None:
    ratios = [math.exp(x) for x in (-0.2, -0.1, 0.0, 0.1, 0.2)]
    calm = log_error_sigma(ratios)
    assert log_error_sigma([*ratios, 40.0]) == pytest.approx(calm, rel=0.5)
    assert log_error_sigma([2.0]) == 0.0


def test_leave_one_out_chooses_without_the_program_it_scores() -> None:
    values = {"p1": 1.0, "p2": 2.0, "p3": 9.0}
    seen: list[list[str]] = []

    def choose(rest: list[str]) -> float:
        seen.append(rest)
        return sum(values[p] for p in rest) / len(rest)

    held = leave_one_out(list(values), choose, lambda mean, p: abs(values[p] - mean))
    assert [h.program for h in held] == ["p1", "p2", "p3"]
    assert all(h.program not in rest for h, rest in zip(held, seen, strict=True))
    assert held[2].chosen == 1.5 and held[2].score == 7.5


def test_an_inversion_is_confident_beyond_the_interval_stated_for_the_ratio() -> None:
    measured = {"a": Measured(100), "b": Measured(200)}
    # predicted the other way, by 1.5x; each prediction alone is uncertain by 0.5 in log
    predicted = {"a": Predicted(3.0, 0.5), "b": Predicted(2.0, 0.5)}
    pair = (measured["a"], measured["b"]), (predicted["a"], predicted["b"])
    # taken as independent, 1.5x is well inside their interval ...
    assert not confidently_inverted(*pair)
    assert judge_ranking(measured, predicted).no_confident_inversion
    # ... but where the two share most of that error, the ratio is known to 0.1 in log
    # and 1.5x is far outside it: the advisor said "a is slower", and it is not
    assert confidently_inverted(*pair, ratio_sigma=0.1)
    verdict = judge_ranking(measured, predicted, {("a", "b"): 0.1})
    assert verdict.confident == (("a", "b"),)
    # a pair the spreads leave out falls back to the independent rule
    assert judge_ranking(measured, predicted, {("a", "x"): 0.1}).no_confident_inversion
