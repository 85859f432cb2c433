"""Verification's worker tasks: a user's module run cold and warm under limits, its
compile timed again on a hollow copy, the empty module beside it, and its instruction
mix counted.

:mod:`wasm_advisor.harness.worker` imports this module when a job names it
(``"tasks_modules"``, :data:`TASKS_MODULE`) and calls :func:`run_task` for each task
of its :data:`KINDS`.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..calibration import kernels
from ..errors import ModuleError
from ..harness import INSTANTIATE_AGAIN, run_failed
from ..runtimes.base import Mode, RunRequest, RunResult, RuntimeAdapter
from ..wasm import (
    CLASSES,
    EXPORT_PREFIX,
    MARK_PREFIX,
    counting_module,
    function_body_bytes,
    hollow_module,
)

__all__ = ["COMPILE_REPEATS", "KINDS", "MAX_WARM_RUNS", "START_PAIRS", "TASKS_MODULE", "run_task"]

TASKS_MODULE = __name__  # how a job names this module to the worker

KINDS = frozenset({"verify", "verify-warm", "count"})


def run_record(result: RunResult) -> dict[str, Any]:
    """What a verify run records of a run."""
    return {"exit_code": result.exit_code, "trap": result.trap, "limit_hit": result.limit_hit,
            "wall_ns": result.wall_ns, "phases_ns": result.phases_ns,
            "peak_rss_bytes": result.peak_rss_bytes, "fuel": result.fuel_consumed}


def run_task(adapter: RuntimeAdapter, mode: Mode, task: dict[str, Any],
             options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run a user's module under limits: cold once, warm ``repeats`` times (or count fuel);
    ``verify-warm``: a later round of warm runs alone, which ``verify`` takes in turn
    across the modes."""
    module = Path(task["module_path"]).read_bytes()
    workdir = Path(task["workdir"]) if task.get("workdir") else None

    def request(precompiled: bool, fuel: int | None = None, copy: bytes | None = None
                ) -> RunRequest:
        # the warm runs are timed as calibrated, without the engine's own interruption
        # checks (Wasmtime's epochs slowed fib2's execution by half): the cold run, under
        # them, has ended within the time limit, and the worker's limit stays
        return RunRequest(module=copy or module, argv=tuple(task.get("argv", ())), workdir=workdir,
                          env=tuple((k, v) for k, v in task.get("env", ())),
                          timeout_s=float(task.get("timeout_s", 60)), precompiled=precompiled,
                          enforce_limits=True, engine_interrupts=not precompiled, fuel=fuel,
                          memory_limit_bytes=task.get("memory_limit_bytes"),
                          instantiate_again=INSTANTIATE_AGAIN if precompiled else 0)

    expect_exit = int(task.get("expect_exit", 0))  # the status the program's result is
    if task["kind"] == "count":
        result = adapter.run(mode, request(False, fuel=1 << 62))
        if run_failed(result, expect_exit) or result.fuel_consumed is None:
            return {"ok": False, "reason": run_failed(result, expect_exit) or "no fuel count"}
        return {"ok": True, "fuel": result.fuel_consumed, **_mix(adapter, mode, module,
                                                                  request, expect_exit)}
    # the same module with _start emptied: the same code to compile and load, no program
    try:
        hollow: bytes | str = hollow_module(module)
    except ModuleError as e:
        hollow = str(e)
    if task["kind"] == "verify-warm":
        return {"ok": True, **_warm_round(adapter, mode, task, request, hollow)[0]}
    cold = adapter.run(mode, request(False))
    tail = (cold.stdout[-400:] + cold.stderr[-400:]).strip()
    record: dict[str, Any] = {"ok": True, "cold": run_record(cold), "output_tail": tail}
    if not run_failed(cold, expect_exit):
        runs, warm = _warm_round(adapter, mode, task, request, hollow)
        record.update(runs)
        if isinstance(hollow, bytes):
            record["cold_hollow"] = _compile_repeats(adapter, mode, request(False, copy=hollow),
                                                     cold, warm)
        if "hollow" in runs:
            # the binding's whole run of the empty module, beside them: hollow minus empty
            # is what the module's code costs before its first instruction
            empty = request(True, copy=kernels.empty_module())
            record["empty"] = _start_pairs(adapter, mode, empty, request(True, copy=hollow)
                                           if isinstance(hollow, bytes) else None)
    return record


def _warm_round(adapter: RuntimeAdapter, mode: Mode, task: dict[str, Any],
                request: Callable[..., RunRequest], hollow: bytes | str
                ) -> tuple[dict[str, Any], list[RunResult]]:
    """A warm-up, then one round of warm runs (:func:`_warm_runs`): the records
    (``warm``, and ``hollow`` where the binding cannot time execution on its own) and
    the warm runs themselves."""
    warm_up = adapter.run(mode, request(True))  # fills the compile cache / artifact
    # the binding cannot time execution on its own: each warm run gets a warm run of
    # the hollow copy beside it, which the execution is read against
    untimed = "run" not in warm_up.phases_ns
    warm, hollow_runs = _warm_runs(
        adapter, mode, request(True), request(True, copy=hollow)
        if untimed and isinstance(hollow, bytes) else None, int(task.get("repeats", 3)),
        float(task.get("budget_s", WARM_BUDGET_S)),
        int(task.get("max_runs", MAX_WARM_RUNS)), int(task.get("expect_exit", 0)))
    records: dict[str, Any] = {"warm": [run_record(r) for r in warm]}
    if untimed:
        failed = next(filter(None, map(run_failed, hollow_runs)), None)
        records["hollow"] = hollow if isinstance(hollow, str) else failed or [
            {"wall_ns": r.wall_ns} for r in hollow_runs]
    return records, warm


def _mix(adapter: RuntimeAdapter, mode: Mode, module: bytes,
         request: Callable[..., RunRequest], expect_exit: int = 0) -> dict[str, Any]:
    """The module's instruction mix and block-end scans, from a run of its counting copy
    (which exits with the program's status, ``expect_exit`` when it runs correctly)."""
    try:
        copy = counting_module(module)
    except ModuleError as e:
        return {"mix_error": str(e)}
    result = adapter.run(mode, replace(request(False, copy=copy), read_globals="__"))
    if run_failed(result, expect_exit) or not result.globals:
        return {"mix_error": "its counting copy did not run: " + (
            run_failed(result, expect_exit) or "no counts read")}
    read = result.globals
    sizes = function_body_bytes(module)
    ran = [read.get(f"{MARK_PREFIX}{i}", 0) for i in range(len(sizes))]
    return {"mix": {c: read[EXPORT_PREFIX + c] for c in CLASSES},
            "block_scan_ops": read["__scan_ops"], "block_scans": read["__scans"],
            "functions_ran": sum(1 for v in ran if v), "functions": len(ran),
            # code a JIT that compiles functions as they are first called compiles
            "ran_code_bytes": sum(size for size, v in zip(sizes, ran, strict=True) if v)}


# cold compiles of the hollow copy beside the real cold run: a median of three moved by
# up to 40 % from one accuracy run to the next (Winch on the corpus: 0.86-1.42x); on
# richards, 2.94 ms for the first three of nine, 2.72 for all nine
COMPILE_REPEATS = 9
COMPILE_REPEAT_BUDGET_NS = 10_000_000_000  # wamrc takes seconds on a large module


def _compile_repeats(adapter: RuntimeAdapter, mode: Mode, hollow: RunRequest,
                     cold: RunResult, warm: list[RunResult]) -> list[dict[str, Any]]:
    """Compile timed again: cold runs of the hollow copy (``hollow``), which compile the
    same code and run none of it, while they fit in :data:`COMPILE_REPEAT_BUDGET_NS`.
    Through Wasmtime they only compile, with the mode's default engine, as calibrated:
    the runs themselves use epoch interruption for the time limit, and its checks made
    Cranelift compile the corpus programs 15-50% longer.

    Only where a cold run's compile can be told apart: a binding that times it (Wasmtime,
    wamrc) or that caches it (wasmer-sdk: a cold run less a warm one). Through iwasm's
    interpreters and JIT every run is cold, and compiling is read from the warm runs.
    """
    if "compile" in cold.phases_ns:
        each = cold.phases_ns["compile"]
    elif mode.binding == "wasmer-sdk" and warm:
        each = max(0, cold.wall_ns - int(statistics.median(r.wall_ns for r in warm)))
    else:
        return []
    runs: list[dict[str, Any]] = []
    hollow = replace(hollow, compile_only=True)  # where the binding can: compiled, not run
    while len(runs) < COMPILE_REPEATS and each * (len(runs) + 1) <= COMPILE_REPEAT_BUDGET_NS:
        result = adapter.run(mode, hollow)
        if run_failed(result):
            break
        runs.append(run_record(result))
    return runs


START_PAIRS = 5


def _start_pairs(adapter: RuntimeAdapter, mode: Mode, empty: RunRequest,
                 hollow: RunRequest | None) -> list[dict[str, Any]]:
    """Runs of the empty module, each beside a run of the hollow copy (``hollow_ns``),
    in alternating order and started the same way (directory, arguments, limits).

    Both are read apart from the warm runs: a short run straight after a long one
    starts slower, by about half a millisecond here, which the pairs would otherwise
    count as the hollow copy's.
    """
    pairs: list[dict[str, Any]] = []
    for i in range(START_PAIRS):
        if hollow is None:
            pairs.append({"wall_ns": adapter.run(mode, empty).wall_ns})
            continue
        if i % 2:
            hollow_ns = adapter.run(mode, hollow).wall_ns
            empty_ns = adapter.run(mode, empty).wall_ns
        else:
            empty_ns = adapter.run(mode, empty).wall_ns
            hollow_ns = adapter.run(mode, hollow).wall_ns
        pairs.append({"wall_ns": empty_ns, "hollow_ns": hollow_ns})
    return pairs


WARM_BUDGET_S = 2.0  # warm runs go on past the minimum while they fit in this
MAX_WARM_RUNS = 25


def _warm_runs(adapter: RuntimeAdapter, mode: Mode, warm: RunRequest,
               hollow: RunRequest | None, repeats: int, budget_s: float,
               max_runs: int = MAX_WARM_RUNS, expect_exit: int = 0
               ) -> tuple[list[RunResult], list[RunResult]]:
    """At least ``repeats`` warm runs, and more, up to ``max_runs``, while they
    fit in ``budget_s`` (a run not ending with ``expect_exit`` ends them); with
    ``hollow``, each is paired with a warm run of the hollow copy, taken in turn, so that
    a change in the machine's pace falls on both alike.

    A short program's run is read against the noise of a process start or a binding's
    set-up; more runs make its median steady where a few cannot.
    """
    if hollow is not None:
        adapter.run(mode, hollow)  # warm-up, as for the real module
    runs: list[RunResult] = []
    hollow_runs: list[RunResult] = []
    started = time.monotonic()
    while len(runs) < max(repeats, max_runs):
        if len(runs) >= repeats:
            spent = time.monotonic() - started
            if spent / len(runs) * (len(runs) + 1) > budget_s:
                break
        runs.append(adapter.run(mode, warm))
        if hollow is not None:
            hollow_runs.append(result := adapter.run(mode, hollow))
            if run_failed(result):
                break
        if run_failed(runs[-1], expect_exit):
            break
    return runs, hollow_runs
