"""Scoring: hard limits first, then a weighted score over the predicted objectives.

A mode is **excluded**, with every reason, when it cannot run a required
feature (its probe failed), cannot run on the target's architecture or device
class, was not measured for a figure the model needs, or breaks a limit
(memory per instance, latency budget, cold start, or the target's memory for
the declared concurrency).

The others are **scored**: each objective is normalised against the best
candidate (lower is better for latency, memory and cold start, so the best
gets 1 and one twice as costly gets 0.5; higher is better for throughput and
maturity) and the score is ``100 × Σ weight × normalised value`` with the
workload's priority weights scaled to sum to 1. That sum is what
:meth:`Candidate.score_arithmetic` prints.

They are ordered by score, with one exception: a mode that is a configuration
of another (``variant_of`` in the traits table, e.g. Wasmtime's pooling
allocator) ranks above the plain mode only when it scores more than
:data:`TIE_BAND` higher. Closer than that, the two swap places from one
calibration to the next, and the plain configuration needs no extra set-up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..calibration.probes import PROBES
from ..units import human_bytes_apart
from .coefficients import ModeCoefficients
from .costs import Prediction, WorkloadFeatures, missing_coefficients, predict_costs
from .traits import traits_for

__all__ = ["OBJECTIVES", "TIE_BAND", "Candidate", "Constraints", "ModeEvidence", "rank"]

# objective -> (figure, lower is better)
OBJECTIVES = {
    "latency": ("latency_ns", True),
    "throughput": ("throughput_per_core", False),
    "memory": ("memory_per_instance_bytes", True),
    "cold_start": ("ttfi_ns", True),
    "maturity": ("maturity", False),
}
PROBED = frozenset(PROBES)  # features the calibration probes on every mode
# Scores closer than this (relative) are a tie: the scores of two modes with alike figures
# (Cranelift with and without the pooling allocator) moved up to 3.4% apart between quick
# calibrations on an idle machine (benchmarks/stability.py prints the gaps).
TIE_BAND = 0.05


@dataclass(frozen=True)
class ModeEvidence:
    """What is known of one runtime/mode: coefficients, probe results, provenance."""

    coefficients: ModeCoefficients
    feature_status: dict[str, str]  # feature -> supported / unsupported / error
    feature_detail: dict[str, str]
    provenance: str
    measured_here: bool


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
    preferred_over: str | None = None  # a variant of this mode it outranks within TIE_BAND

    @property
    def key(self) -> str:
        return self.evidence.coefficients.key

    @property
    def label(self) -> str:
        return self.evidence.coefficients.label

    def score_arithmetic(self, weights: dict[str, float]) -> str:
        """The score as the sum it is: ``100 × (0.33×1.00 latency + …) = 87``."""
        terms = " + ".join(f"{weights[o]:.2f}×{self.normalised.get(o, 0):.2f} {o}"
                           for o in OBJECTIVES if weights.get(o))
        return f"100 × ({terms}) = {self.score:.1f}"


def _exclusions(c: Candidate, k: Constraints) -> list[str]:
    reasons = []
    m = c.evidence.coefficients
    for feature in k.required_features:
        status = c.evidence.feature_status.get(feature)
        if status in ("unsupported", "error"):
            detail = c.evidence.feature_detail.get(feature, "")
            reasons.append(f"cannot run {feature}" + (f" ({detail})" if detail else ""))
        elif status is None and feature not in PROBED:
            c.warnings.append(f"{feature} was not probed; support assumed")
    traits = traits_for(m.key)
    if traits is not None:
        why = traits.cannot_run_on(k.arch, k.device_class)
        if why:
            reasons.append(why)
    missing = missing_coefficients(m)
    if missing:
        reasons.append("not measured: " + ", ".join(missing))
        return reasons
    p = c.prediction
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
                        "memory_per_instance_bytes": p.memory_per_instance_bytes,
                        "ttfi_ns": p.ttfi_ns,
                        "maturity": traits.maturity if traits else 0.5}
        candidates.append(c)
    eligible = [c for c in candidates if not c.excluded]
    for objective, (figure, lower_better) in OBJECTIVES.items():
        values = [c.objectives[figure] for c in eligible]
        if not values:
            break
        best = min(values) if lower_better else max(values)
        for c in eligible:
            v = c.objectives[figure]
            if lower_better:
                c.normalised[objective] = 1.0 if v <= 0 or best >= v else best / v
            else:
                c.normalised[objective] = 1.0 if best <= 0 else v / best
    for c in eligible:
        c.score = 100 * sum(k.weights.get(o, 0.0) * c.normalised[o] for o in OBJECTIVES)
    eligible.sort(key=lambda c: (-c.score, c.key))
    _prefer_plain_configurations(eligible)
    excluded = sorted((c for c in candidates if c.excluded), key=lambda c: c.key)
    return eligible + excluded


def _prefer_plain_configurations(ranked: list[Candidate]) -> None:
    """Move a mode above a configuration of it that beats it by no more than TIE_BAND."""
    i = 0
    while i < len(ranked):
        variant = ranked[i]
        traits = traits_for(variant.key)
        base = traits.variant_of if traits else None
        j = next((j for j in range(i + 1, len(ranked)) if ranked[j].key == base), None)
        if j is not None and ranked[j].score >= variant.score * (1 - TIE_BAND):
            plain = ranked.pop(j)
            plain.preferred_over = variant.key
            ranked.insert(i, plain)  # a plain mode is nobody's variant: this ends
        i += 1
