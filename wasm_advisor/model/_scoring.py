"""Scoring: hard limits first, then a weighted score over the predicted objectives.

A mode is **excluded**, with every reason, when it cannot run a required
feature (its probe failed), cannot run on the target's architecture or device
class, was not measured for a figure the model needs, or breaks a limit
(memory per instance, latency budget, cold start, or the target's memory for
the declared concurrency).

The others are **scored** by a weighted geometric mean: each objective is
taken as a ratio to the best candidate's (lower is better for latency, memory
and cold start, so the best gets 1 and one twice as costly gets 0.5; higher is
better for throughput and maturity) and the score is
``100 × Π normalised ** weight`` with the workload's priority weights scaled
to sum to 1. That product is what :meth:`Candidate.score_arithmetic` prints.

The order of any two modes depends on their own figures and the weights only:
the ratio of their scores is ``Π (figure_a / figure_b) ** ±weight``, in which the
best candidate's figures cancel. Adding or removing a third mode can change
the printed scores (the best of each objective may change), never the order of
the others. (A sum of ratios to the best, used before, let a third mode's cold
start of a few ms reorder two others.)

They are ordered by score alone. How sure that order is (which modes the
measurements cannot tell apart) is :mod:`.confidence`'s business; a mode that
is a configuration of another (``variant_of`` in the traits table) and ties
with it is named there, not moved here, since moving it would let its
presence reorder the modes between the two.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..calibration import PROBES
from ..runtimes import traits_for
from ..workload import human_bytes_apart
from ._coefficients import ModeCoefficients
from ._costs import WorkloadFeatures, missing_coefficients, predict_costs
from ._prediction import Prediction

__all__ = ["FLOORS", "OBJECTIVES", "Candidate", "Constraints", "ModeEvidence",
           "log_merit", "rank"]

# objective -> (figure, lower is better)
OBJECTIVES = {
    "latency": ("latency_ns", True),
    "throughput": ("throughput_per_core", False),
    "memory": ("memory_total_bytes", True),  # the whole deployment (Prediction.memory_parts)
    "cold_start": ("ttfi_ns", True),
    "maturity": ("maturity", False),
}
PROBED = frozenset(PROBES)  # features the calibration probes on every mode
# the smallest value an objective's figure is taken as, so that a ratio is always defined
# (a mode predicted to cost nothing for a workload with no compute, say): one nanosecond,
# one byte, one request a second, and the lowest trait score
FLOORS = {"latency": 1.0, "throughput": 1.0, "memory": 1.0, "cold_start": 1.0,
          "maturity": 0.2}


@dataclass(frozen=True)
class ModeEvidence:
    """What is known of one runtime/mode: coefficients, probe results, provenance."""

    coefficients: ModeCoefficients
    feature_status: dict[str, str]  # feature -> supported / unsupported / error
    feature_detail: dict[str, str]
    provenance: str
    measured_here: bool
    # relative spread added to every figure of a mode whose figures were scaled from a
    # profile measured elsewhere (the spread of the pace ratios that scaled them)
    scale_sigma: float = 0.0
    profile_id: str = ""  # the profile the figures came from
    # relative spread of every figure from how far the machine's pace moved while the
    # profile was made (half the range of its pace readings over their median); 0: unread
    pace_sigma: float = 0.0
    # the profile was measured on this machine, whether or not the mode's runtime is found
    # installed now (its binaries may be given by hand, as verify --iwasm/--libiwasm do)
    profile_here: bool = False


@dataclass(frozen=True)
class Constraints:
    """The parts of a workload that scoring needs besides its numbers."""

    weights: dict[str, float]  # normalised to sum to 1
    required_features: tuple[str, ...]
    arch: str
    device_class: str
    target_memory_bytes: float
    max_memory_per_instance_bytes: float | None
    max_latency_ms: float | None
    max_cold_start_ms: float | None


@dataclass
class Candidate:
    """One runtime/mode for one workload: prediction, exclusions or score."""

    evidence: ModeEvidence
    prediction: Prediction
    excluded: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    objectives: dict[str, float] = field(default_factory=dict)
    normalised: dict[str, float] = field(default_factory=dict)
    score: float = 0.0
    merit: float = 0.0  # log-score of its own figures: the order of any two modes

    @property
    def key(self) -> str:
        return self.evidence.coefficients.key

    @property
    def label(self) -> str:
        return self.evidence.coefficients.label

    def score_arithmetic(self, weights: dict[str, float]) -> str:
        """The score as the product it is: ``100 × 1.00^0.33 latency × … = 87``."""
        terms = " × ".join(f"{self.normalised.get(o, 0):.2f}^{weights[o]:.2f} {o}"
                           for o in OBJECTIVES if weights.get(o))
        return f"100 × {terms} = {self.score:.1f}"


def _figure(objective: str, value: float) -> float:
    """An objective's figure as scored: within [floor, 1e300], so every ratio is defined."""
    return min(1e300, max(FLOORS[objective], value))  # inf (nothing to cost) -> 1e300


def log_merit(objectives: dict[str, float], weights: dict[str, float]) -> float:
    """``Σ weight × ±log(figure)`` (+ for higher-is-better objectives): the part of a mode's
    log-score that is its own. Two modes' scores compare as these do."""
    total = 0.0
    for objective, (figure, lower_better) in OBJECTIVES.items():
        w = weights.get(objective, 0.0)
        if w:
            value = math.log(_figure(objective, objectives[figure]))
            total += w * (-value if lower_better else value)
    return total


def _exclusions(c: Candidate, k: Constraints) -> list[str]:
    reasons = _unsupported_features(c, k)
    traits = traits_for(c.evidence.coefficients.key)
    if traits is not None:
        why = traits.cannot_run_on(k.arch, k.device_class)
        if why:
            reasons.append(why)
    missing = missing_coefficients(c.evidence.coefficients)
    if missing:
        return [*reasons, "not measured: " + ", ".join(missing)]
    return reasons + _limits_broken(c.prediction, k)


def _unsupported_features(c: Candidate, k: Constraints) -> list[str]:
    """The required features the mode failed in its probes; a warning on the candidate
    for each one that was not probed."""
    reasons = []
    for feature in k.required_features:
        status = c.evidence.feature_status.get(feature)
        if status in ("unsupported", "error"):
            detail = c.evidence.feature_detail.get(feature, "")
            reasons.append(f"cannot run {feature}" + (f" ({detail})" if detail else ""))
        elif status is None and feature not in PROBED:
            c.warnings.append(f"{feature} was not probed; support assumed")
    return reasons


def _limits_broken(p: Prediction, k: Constraints) -> list[str]:
    """Each limit of the workload's that the prediction goes beyond, said with both figures."""
    reasons = []
    if k.max_memory_per_instance_bytes is not None and \
            p.memory_per_instance_bytes > k.max_memory_per_instance_bytes:
        reasons.append(f"needs {p.memory_per_instance_bytes / 2**20:.1f} MiB per instance, "
                       f"limit {k.max_memory_per_instance_bytes / 2**20:.1f} MiB")
    if k.max_latency_ms is not None and p.mean_cost_ns / 1e6 > k.max_latency_ms:
        reasons.append(f"a request takes {p.mean_cost_ns / 1e6:.3g} ms on average, "
                       f"budget {k.max_latency_ms:g} ms")
    if k.max_cold_start_ms is not None and p.ttfi_ns / 1e6 > k.max_cold_start_ms:
        reasons.append(f"cold start takes {p.ttfi_ns / 1e6:.3g} ms, "
                       f"limit {k.max_cold_start_ms:g} ms")
    if p.memory_total_bytes > k.target_memory_bytes:
        need, have = human_bytes_apart(p.memory_total_bytes, k.target_memory_bytes)
        reasons.append(f"{p.effective_concurrency:.0f} instances need {need}, more than "
                       f"the target's {have}")
    return reasons


def rank(evidence: list[ModeEvidence], features: WorkloadFeatures, k: Constraints,
         predictions: dict[str, Prediction] | None = None) -> list[Candidate]:
    """Every mode for ``features``: scored ones best first, then the excluded ones.

    ``predictions`` replaces the model's prediction for some modes (by key): the
    accuracy benchmark scores measured figures with the same arithmetic.
    """
    candidates = []
    for e in evidence:
        given = (predictions or {}).get(e.coefficients.key)
        c = Candidate(e, given or predict_costs(e.coefficients, features))
        if not e.measured_here:
            c.warnings.append(f"measured elsewhere: {e.provenance}")
        c.warnings.extend(c.prediction.notes)
        c.excluded = _exclusions(c, k)
        traits = traits_for(c.key)
        p = c.prediction
        c.objectives = {"latency_ns": p.latency_ns, "throughput_per_core": p.throughput_per_core,
                        "memory_total_bytes": p.memory_total_bytes,
                        "ttfi_ns": p.ttfi_ns,
                        "maturity": traits.maturity if traits else 0.5}
        candidates.append(c)
    eligible = [c for c in candidates if not c.excluded]
    _score(eligible, k.weights)
    eligible.sort(key=lambda c: (-c.merit, c.key))
    excluded = sorted((c for c in candidates if c.excluded), key=lambda c: c.key)
    return eligible + excluded


def _score(eligible: list[Candidate], weights: dict[str, float]) -> None:
    """Each candidate's normalised objectives, its merit and its score
    (``100 × Π normalised ** weight``, which is ``100 × exp(merit - the best's merits)``)."""
    for objective, (figure, lower_better) in OBJECTIVES.items():
        values = [_figure(objective, c.objectives[figure]) for c in eligible]
        if not values:
            return
        best = min(values) if lower_better else max(values)
        for c, v in zip(eligible, values, strict=True):
            c.normalised[objective] = best / v if lower_better else v / best
    for c in eligible:
        c.merit = log_merit(c.objectives, weights)
        c.score = 100 * math.prod(c.normalised[o] ** weights.get(o, 0.0) for o in OBJECTIVES)
