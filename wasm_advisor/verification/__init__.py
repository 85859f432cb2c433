"""Verification: a user's module run on every mode and read against the model's prediction,
and the accuracy rules the benchmark judges the model by."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..files import lazy_exports

if TYPE_CHECKING:  # the names below, for the type checker; imported on first use
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

# a worker imports this package on its way to its task module (.tasks), which needs
# neither the report nor the model
__getattr__, __dir__ = lazy_exports(__name__, {
    "VerifyReport": "._report",
    **dict.fromkeys(("TOLERANCE", "human", "not_run", "order_verdict", "phase_checks"),
                    "._summary"),
    "run_verification": "._verify",
})
