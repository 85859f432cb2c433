"""Worker processes that run measurement tasks and survive them, what every task
builds on, and the statistics every figure is fitted with."""

from ._runner import WorkerLimits, WorkerOutcome, run_worker
from ._statistics import SlopeFit, fit_slope, median_spread
from ._task_tools import INSTANTIATE_AGAIN, run_detail, run_failed, run_module, ttfi_ns

__all__ = [
    "INSTANTIATE_AGAIN",
    "SlopeFit",
    "WorkerLimits",
    "WorkerOutcome",
    "fit_slope",
    "median_spread",
    "run_detail",
    "run_failed",
    "run_module",
    "run_worker",
    "ttfi_ns",
]
