"""The trade-off model: a profile's coefficients, a workload's predicted costs, scores,
confidence, explanations and the README's claims.

The scikit-learn estimator is :mod:`wasm_advisor.model.estimator`, imported on its own
(scikit-learn loads only when it is used)."""

from ._claims import ClaimResult, check_claims
from ._coefficients import ModeCoefficients
from ._confidence import CLEAR_WIN, Confidence, Resampled, resample
from ._costs import WorkloadFeatures, block_scan_ns_per_op, predict_costs
from ._explain import SWEEPS, Crossover, Decision, decide, find_crossovers, human_ns
from ._prediction import (
    FIRST_INSTANCE,
    MEMORY_PARTS,
    RUN_COMPILE,
    Component,
    Kind,
    MemoryPart,
    Prediction,
)
from ._rescale import pace_ratio
from ._scoring import Candidate, Constraints, ModeEvidence, rank
from ._startup_transfer import (
    PhaseTransfer,
    StartupTransfer,
    fit_transfer,
    load_transfer,
    transfer_document,
    with_transfer,
)

__all__ = [
    "CLEAR_WIN",
    "FIRST_INSTANCE",
    "MEMORY_PARTS",
    "RUN_COMPILE",
    "SWEEPS",
    "Candidate",
    "ClaimResult",
    "Component",
    "Confidence",
    "Constraints",
    "Crossover",
    "Decision",
    "Kind",
    "MemoryPart",
    "ModeCoefficients",
    "ModeEvidence",
    "PhaseTransfer",
    "Prediction",
    "Resampled",
    "StartupTransfer",
    "WorkloadFeatures",
    "block_scan_ns_per_op",
    "check_claims",
    "decide",
    "find_crossovers",
    "fit_transfer",
    "human_ns",
    "load_transfer",
    "pace_ratio",
    "predict_costs",
    "rank",
    "resample",
    "transfer_document",
    "with_transfer",
]
