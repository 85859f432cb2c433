"""A price per instruction class, per mode: what running a program's counted mix costs.

The calibration times kernels whose instruction mixes differ (the instruction-mix
family, :mod:`wasm_advisor.calibration._mix_kernels`, and the named compute
kernels), each counted per iteration by class as a program's counting copy is
(:data:`wasm_advisor.wasm.CLASSES`). :class:`InstructionCostModel` fits, per
mode, ``ns per iteration = Σ price[class] × count[class]`` with every price at
least 0 (scikit-learn's ``LinearRegression(positive=True)``: non-negative least
squares, no intercept: an iteration that runs nothing costs nothing), weighted so
that each kernel's *relative* error counts alike (a kernel ten times slower than
another is not ten times more important).

**Classes that move together.** Every statement of compiled code reads locals, so
``local`` rises and falls with the other classes across the kernels, and the kernels
cannot always say how to split a cost between two classes (a quick calibration of
WAMR's fast interpreter put 0.8 ns on ``local.get`` and nothing on integer arithmetic,
where the engine folds the ``local.get`` into the arithmetic's operands: the other way
round). Such a split does not matter for code whose mix lies among the kernels' (real
programs' do: locals, constants and integer arithmetic in about the kernels'
proportions), and the cross-validated error below is what it costs. Pulling every price
towards a common one did not lower that error on the kernels (a penalty worth one kernel
per class: Cranelift 0.578 → 0.584, Pulley 0.415 → 0.399, the fast interpreter 0.403 →
0.399, the classic one 0.204 → 0.209, in log) and was left out.

**How wrong it is, measured.** The fit is cross-validated over the kernels
(:data:`FOLDS`-fold, a fixed seed): each kernel predicted by prices fitted without
it. The root mean square of those errors (in log: a factor) is the model's own
relative uncertainty, ``cv_log_rms_``, which every compute figure carries as its
spread (a kernel that alone runs some class, as the ``simd`` kernel alone runs SIMD
instructions, prices that class and is left out of it: no fit without it could).
Compiled code's cost depends on dependencies between instructions as much as on
their classes, which prices cannot express, and this figure says so: it is larger
for the compilers than for the interpreters.

A class no kernel runs (``simd`` on a mode without SIMD, ``other``) is priced at
the family's median cost per instruction, and the fit says which classes it priced
that way (``unfitted_``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import KFold
from sklearn.utils.validation import check_is_fitted

from ..wasm import CLASSES

__all__ = ["FOLDS", "MIN_KERNELS", "InstructionCostModel", "mix_vector"]

FOLDS = 6  # cross-validation folds over the kernels
MIN_KERNELS = 8  # fewer kernels than this: no fit (the prices would be the kernels' noise)
SEED = 0  # the folds' shuffle: the same profile always gives the same prices and error


def mix_vector(counts: Mapping[str, float]) -> list[float]:
    """Counts by class name as a row in :data:`CLASSES` order (a missing class is 0)."""
    return [float(counts.get(c, 0.0)) for c in CLASSES]


class InstructionCostModel(BaseEstimator, RegressorMixin):  # type: ignore[misc]
    """Non-negative prices per instruction class, fitted to kernels' ns per iteration.

    ``X``: one row per kernel, its instructions per iteration by class in
    :data:`CLASSES` order (:func:`mix_vector`); ``y``: its ns per iteration.
    """

    def __init__(self, folds: int = FOLDS, random_state: int = SEED) -> None:
        self.folds = folds
        self.random_state = random_state

    def fit(self, X: Sequence[Sequence[float]] | np.ndarray,
            y: Sequence[float] | np.ndarray) -> InstructionCostModel:
        counts, times = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
        if counts.ndim != 2 or counts.shape[1] != len(CLASSES):
            raise ValueError(f"X: one row of {len(CLASSES)} class counts per kernel")
        keep = (times > 0) & (counts.sum(axis=1) > 0)
        counts, times = counts[keep], times[keep]
        if len(times) < MIN_KERNELS:
            raise ValueError(f"{len(times)} kernels with a time and counts: a fit needs "
                             f"{MIN_KERNELS}")
        used = counts.max(axis=0) > 0
        self.coef_ = _prices(counts, times, used)
        self.unfitted_ = tuple(c for c, u in zip(CLASSES, used, strict=True) if not u)
        self.median_ns_per_instruction_ = _common_price(counts, times)
        folds = KFold(min(self.folds, len(times)), shuffle=True,
                      random_state=self.random_state)
        predicted = np.empty_like(times)
        for train, test in folds.split(counts):
            predicted[test] = counts[test] @ _prices(counts[train], times[train], used)
        # a kernel that alone runs some class (the simd kernel) cannot be predicted by a
        # fit without it: it prices that class, and is left out of the error
        ran = counts > 0
        alone = (ran & (ran.sum(axis=0) == 1)).any(axis=1)
        errors = np.log(np.maximum(predicted, 1e-9) / times)
        errors[alone] = np.nan
        self.kept_ = keep  # which rows of X were fitted (a time and some counts)
        self.cv_log_errors_ = errors  # per fitted row; NaN where it alone runs a class
        self.cv_log_rms_ = float(math.sqrt(float(np.mean(errors[~alone] ** 2))))
        self.n_kernels_ = len(times)
        return self

    def predict(self, X: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
        """ns for each row of class counts."""
        check_is_fitted(self, "coef_")
        predicted: np.ndarray = np.asarray(X, dtype=float) @ self.coef_
        return predicted

    def prices(self) -> dict[str, float]:
        """ns per instruction, by class."""
        check_is_fitted(self, "coef_")
        return {c: float(v) for c, v in zip(CLASSES, self.coef_, strict=True)}


def _common_price(counts: np.ndarray, times: np.ndarray) -> float:
    """The kernels' median ns per instruction."""
    return float(np.median(times / counts.sum(axis=1)))


def _prices(counts: np.ndarray, times: np.ndarray, used: np.ndarray) -> np.ndarray:
    """Non-negative prices by class (the ``used`` ones fitted, the rest at the common
    price), each kernel's row divided by its time so that the fit weighs relative errors."""
    prices = np.full(counts.shape[1], _common_price(counts, times))
    fit = LinearRegression(positive=True, fit_intercept=False)
    prices[used] = fit.fit(counts[:, used] / times[:, None], np.ones(len(times))).coef_
    return prices
