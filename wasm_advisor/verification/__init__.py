"""Verification: a user's module run on every mode and read against the model's prediction,
and the accuracy rules the benchmark judges the model by."""

from ._report import VerifyReport
from ._summary import TOLERANCE, human, not_run, order_verdict, phase_checks
from ._verify import run_verification

__all__ = [
    "TOLERANCE",
    "VerifyReport",
    "human",
    "not_run",
    "order_verdict",
    "phase_checks",
    "run_verification",
]
