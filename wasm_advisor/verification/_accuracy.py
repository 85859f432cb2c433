"""The rules by which predictions are judged against measurements, fixed in code.

``benchmarks/accuracy.py`` measures real programs on every runtime/mode and
judges the advisor's predictions by these rules; they live here, unit-tested
and type-checked, so that a rule cannot be loosened quietly after a miss.

- **Start-up**: a compile or instantiate prediction within :data:`CLOSE` of the
  measurement (either way).
- **Separated**: two modes' measured times are *separated* only when they are
  more than :data:`RANK_NOISE` apart *and* further apart than their own
  measured spread (:func:`separated`); closer, they are a *measured tie*, which
  no prediction can get wrong.
- **Ranking, strict**: every separated pair predicted in the measured order.
- **Ranking, no confident inversion**: no separated pair predicted the other
  way *beyond the interval the prediction states for their ratio*
  (:func:`confidently_inverted`): a model that says "these two are within my error"
  and is wrong about their order has not misled anyone. The interval is the one the
  advisor's own draws give the ratio where the benchmark passes it (errors the two
  modes share cancel in a ratio, and the advisor ties or separates modes by that
  narrower spread), else that of two independent predictions.
- **Top choice**: *exact* (the advisor's winner is the measured winner) and *in
  the tied set* (the measured winner is in the set the advisor said it could not
  separate), reported with the mean size of that set, since a tied set of every
  mode is always right and says nothing.
- **Coverage**: the share of measurements inside the stated
  :data:`INTERVAL` interval of their prediction (:func:`coverage`); it should be
  close to that level.
- **Leave one program out** (:func:`leave_one_out`): any number chosen by
  looking at corpus results is chosen again without each program in turn, and
  judged on that program alone.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["CLOSE", "INTERVAL", "RANK_NOISE", "Measured", "Predicted", "RankingVerdict",
           "TopChoice", "confidently_inverted", "coverage", "error_factor", "interval",
           "judge_ranking", "judge_top_choice", "leave_one_out", "log_error_sigma", "separated",
           "startup_close"]

CLOSE = 1.5  # start-up within 1.5x of measured
RANK_NOISE = 0.10  # measured times closer than this are not ordered
INTERVAL = 0.80  # the stated interval of a prediction
Z_INTERVAL = 1.2815515655446004  # a two-sided 80 % interval of a normal: ±1.28 sigma

T = TypeVar("T")
P = TypeVar("P")


def error_factor(ratio: float) -> float:
    """How far off a ratio predicted/measured is, either way: 2.0 for 0.5 and for 2."""
    return max(ratio, 1 / ratio)


def startup_close(predicted: float, measured: float) -> bool:
    return predicted > 0 and measured > 0 and error_factor(predicted / measured) <= CLOSE


@dataclass(frozen=True)
class Measured:
    """A measured time and the half-width of its own uncertainty (same unit)."""

    value: float
    spread: float = 0.0


@dataclass(frozen=True)
class Predicted:
    """A predicted time and its relative one-sigma uncertainty (of its logarithm)."""

    value: float
    sigma: float = 0.0


def separated(a: Measured, b: Measured) -> bool:
    """Whether the measurements order ``a`` and ``b``: more than :data:`RANK_NOISE` apart,
    and further apart than their spreads together."""
    gap = abs(a.value - b.value)
    return gap > RANK_NOISE * min(a.value, b.value) and gap > a.spread + b.spread


def confidently_inverted(measured: tuple[Measured, Measured],
                         predicted: tuple[Predicted, Predicted],
                         ratio_sigma: float | None = None) -> bool:
    """A separated pair predicted the other way, beyond the predictions' 80 % interval of
    their ratio: ``ratio_sigma``, the spread stated for log(a / b), where given; else the
    two predictions' spreads as if independent."""
    (ma, mb), (pa, pb) = measured, predicted
    if not separated(ma, mb) or (ma.value < mb.value) == (pa.value < pb.value):
        return False
    gap = abs(math.log(pa.value / pb.value))
    spread = math.hypot(pa.sigma, pb.sigma) if ratio_sigma is None else ratio_sigma
    return gap > Z_INTERVAL * spread


@dataclass(frozen=True)
class RankingVerdict:
    """One module's execution ranking, judged."""

    separated_pairs: int
    measured_ties: int
    inverted: tuple[tuple[str, str], ...]  # separated pairs predicted the other way
    confident: tuple[tuple[str, str], ...]  # ... beyond the predictions' interval

    @property
    def strict(self) -> bool:
        return not self.inverted

    @property
    def no_confident_inversion(self) -> bool:
        return not self.confident


def judge_ranking(measured: dict[str, Measured], predicted: dict[str, Predicted],
                  ratio_sigmas: Mapping[tuple[str, str], float] | None = None
                  ) -> RankingVerdict:
    """Every pair of the modes both measured and predicted, judged by the rules above;
    ``ratio_sigmas``: per pair ``(a, b)`` (``a`` before ``b`` in sorted order), the spread
    the predictions state for log(a / b), where known."""
    keys = sorted(set(measured) & set(predicted))
    pairs = ties = 0
    inverted, confident = [], []
    for i, a in enumerate(keys):
        for b in keys[i + 1:]:
            ma, mb = measured[a], measured[b]
            if not separated(ma, mb):
                ties += 1
                continue
            pairs += 1
            if (ma.value < mb.value) != (predicted[a].value < predicted[b].value):
                inverted.append((a, b))
                if confidently_inverted((ma, mb), (predicted[a], predicted[b]),
                                        (ratio_sigmas or {}).get((a, b))):
                    confident.append((a, b))
    return RankingVerdict(pairs, ties, tuple(inverted), tuple(confident))


@dataclass(frozen=True)
class TopChoice:
    """The advisor's answer for one module and preset, against the measured winner."""

    exact: bool
    in_tied_set: bool
    tied_set_size: int


def judge_top_choice(tied: Sequence[str], measured_winner: str | None) -> TopChoice:
    """``tied``: the advisor's winner first, then the modes it said it could not separate
    from it (empty: it excluded every mode); ``measured_winner``: None where no mode met
    the limits when measured. Both saying "none" agree."""
    if not tied or measured_winner is None:
        agree = not tied and measured_winner is None
        return TopChoice(agree, agree, len(tied))
    return TopChoice(tied[0] == measured_winner, measured_winner in tied, len(tied))


def interval(p: Predicted) -> tuple[float, float]:
    """The stated :data:`INTERVAL` interval of a prediction."""
    half = Z_INTERVAL * p.sigma
    return p.value * math.exp(-half), p.value * math.exp(half)


def coverage(pairs: Sequence[tuple[Predicted, float]]) -> float | None:
    """The share of measurements inside their prediction's stated interval."""
    if not pairs:
        return None
    inside = 0
    for p, measured in pairs:
        low, high = interval(p)
        inside += low <= measured <= high
    return inside / len(pairs)


def log_error_sigma(ratios: Sequence[float]) -> float:
    """The spread of log(predicted/measured) about its median, as one sigma (from the
    median absolute deviation, which a single wild program does not sway)."""
    logs = [math.log(r) for r in ratios if r > 0]
    if len(logs) < 2:
        return 0.0
    middle = statistics.median(logs)
    return 1.4826 * statistics.median(abs(x - middle) for x in logs)


@dataclass(frozen=True)
class HeldOut(Generic[P]):
    """One program held out: what was chosen without it, and its score with that choice."""

    program: str
    chosen: P
    score: float


def leave_one_out(programs: Sequence[str], choose: Callable[[list[str]], P],
                  score: Callable[[P, str], float]) -> list[HeldOut[P]]:
    """For each program, ``choose`` on all the others and ``score`` on it alone."""
    out = []
    for held in programs:
        rest = [p for p in programs if p != held]
        chosen = choose(rest)
        out.append(HeldOut(held, chosen, score(chosen, held)))
    return out
