"""What every worker task uses: one run of a module, and what its end says.

The task modules (:mod:`wasm_advisor.calibration.tasks`,
:mod:`wasm_advisor.verification.tasks`) run in the worker process
(:mod:`wasm_advisor.harness.worker`) and build on these.
"""

from __future__ import annotations

from typing import Any

from ..runtimes.base import Mode, RunRequest, RunResult, RuntimeAdapter
from ..runtimes.run_outcome import run_failure

__all__ = ["INSTANTIATE_AGAIN", "run_detail", "run_failed", "run_module", "ttfi_ns"]


def ttfi_ns(result: RunResult, t0: int | None) -> int | None:
    """Time to first instruction: the guest's first realtime reading less the start of
    the run, where it falls inside the run."""
    if t0 is None:
        return None
    delta = t0 - result.host_start_realtime_ns
    return delta if 0 <= delta <= result.wall_ns + 1_000_000 else None


# host-timed runs also time this many more instances of the module (where the binding
# reports instantiation): the steady-state instantiation, apart from the first one
INSTANTIATE_AGAIN = 3


def run_module(adapter: RuntimeAdapter, mode: Mode, module: bytes, task: dict[str, Any],
               instantiate_again: int = 0) -> RunResult:
    """One run of ``module`` with the task's time limit and precompiled setting."""
    return adapter.run(
        mode,
        RunRequest(
            module=module,
            timeout_s=float(task.get("timeout_s", 60)),
            precompiled=bool(task.get("precompiled", False)),
            instantiate_again=instantiate_again,
            single_thread_compile=bool(task.get("single_thread_compile", False)),
        ),
    )


def run_failed(result: RunResult, expect_exit: int = 0) -> str | None:
    """Why a run did not end as its program should
    (:func:`~wasm_advisor.runtimes.run_outcome.run_failure`); ``expect_exit``: the status
    its correct result is."""
    if run_failure(result.exit_code, result.trap, result.limit_hit, expect_exit) is None:
        return None
    expected = f" (expected {expect_exit})" if expect_exit not in (0, result.exit_code) else ""
    return f"exit {result.exit_code}{expected}: {run_detail(result)}"[:300]


def run_detail(result: RunResult) -> str:
    """What a run said of how it ended: its trap, else the last line it wrote to stderr."""
    return result.trap or (result.stderr.strip().splitlines() or [""])[-1]
