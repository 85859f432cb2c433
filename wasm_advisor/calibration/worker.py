"""The worker process: runs measurement tasks for one runtime/mode, one JSON line per task.

Started by :mod:`wasm_advisor.calibration.runner` as
``python -m wasm_advisor.calibration.worker``. It reads a job from stdin::

    {"runtime": "wasmtime", "mode": "cranelift", "options": {...},
     "tasks": [{"id": "guest:int", "kind": "guest", ...}, ...]}

and writes one line per finished task, ``{"id": ..., "ok": true, ...}``, to a
private copy of its stdout. Its own file descriptor 1 is pointed at stderr
first, so whatever an engine prints can never corrupt the results.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, TextIO

from ..errors import ModuleError
from ..hollow_module import hollow_module
from ..instruction_mix import (
    CLASSES,
    EXPORT_PREFIX,
    MARK_PREFIX,
    counting_module,
    function_body_bytes,
)
from ..runtimes import adapter_for
from ..runtimes.base import Mode, RunRequest, RunResult, RuntimeAdapter
from ..runtimes.resident_growth import LIVE_INSTANCES
from ..runtimes.run_outcome import run_failure
from . import kernels
from .probes import PROBE_SUCCESS, PROBES

__all__ = ["main", "parse_guest_output"]


def parse_guest_output(stdout: str) -> tuple[int | None, list[tuple[int, int]]]:
    """The guest's first realtime reading and its ``(n, ns)`` samples.

    Raises ``ValueError`` naming the line when a line that starts like a record
    is not one (a runtime that printed garbage, or a truncated line).
    """
    t0, samples = None, []
    for line in stdout.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            record = json.loads(line)
            if "t0" in record:
                t0 = int(record["t0"])
            elif "n" in record and "ns" in record:
                samples.append((int(record["n"]), int(record["ns"])))
        except (ValueError, TypeError, OverflowError):
            raise ValueError(f"malformed output from the module: {line[:80]!r}") from None
    return t0, samples


def _ttfi(result: RunResult, t0: int | None) -> int | None:
    if t0 is None:
        return None
    delta = t0 - result.host_start_realtime_ns
    return delta if 0 <= delta <= result.wall_ns + 1_000_000 else None


# host-timed runs also time this many more instances of the module (where the binding
# reports instantiation): the steady-state instantiation, apart from the first one
INSTANTIATE_AGAIN = 3


def _run(adapter: RuntimeAdapter, mode: Mode, module: bytes, task: dict[str, Any],
         instantiate_again: int = 0) -> RunResult:
    return adapter.run(
        mode,
        RunRequest(
            module=module,
            timeout_s=float(task.get("timeout_s", 60)),
            precompiled=bool(task.get("precompiled", False)),
            instantiate_again=instantiate_again,
        ),
    )


def _failed(result: RunResult, expect_exit: int = 0) -> str | None:
    """Why a run did not end as its program should (:func:`.run_outcome.run_failure`);
    ``expect_exit``: the status its correct result is."""
    if run_failure(result.exit_code, result.trap, result.limit_hit, expect_exit) is None:
        return None
    detail = result.trap or (result.stderr.strip().splitlines() or [""])[-1]
    expected = f" (expected {expect_exit})" if expect_exit not in (0, result.exit_code) else ""
    return f"exit {result.exit_code}{expected}: {detail}"[:300]


def _samples_peak_memory(adapter: RuntimeAdapter, mode: Mode) -> bool:
    """Whether the mode's memory is read by sampling a process per instance (iwasm), not
    as growth of an in-process binding's own process."""
    samples = getattr(adapter, "samples_peak_memory", None)
    return bool(samples(mode)) if callable(samples) else bool(samples)


def run_task(adapter: RuntimeAdapter, mode: Mode, task: dict[str, Any],
             options: dict[str, Any] | None = None) -> dict[str, Any]:
    """One task's outcome; ``options`` are the job's (a fresh process builds its adapter
    with them)."""
    kind = task["kind"]
    if kind == "guest":
        plan = kernels.KernelPlan(**{**task["plan"], "sizes": tuple(task["plan"]["sizes"])})
        module = kernels.guest_kernel(task["kernel"], plan)
        each: list[list[tuple[int, int]]] = []
        for _ in range(int(task.get("instances", 1))):  # each a new instance and linear memory
            result = _run(adapter, mode, module, task)
            error = _failed(result)
            if error:
                return {"ok": False, "reason": error}
            t0, samples = parse_guest_output(result.stdout)
            if not samples:
                return {"ok": False, "reason": "the kernel printed no samples"}
            if not each:
                first = {"ttfi_ns": _ttfi(result, t0), "phases_ns": result.phases_ns,
                         "peak_rss_bytes": result.peak_rss_bytes}
            each.append(samples)
        return {"ok": True, "samples": each[0], "instances": each, **first}
    if kind == "host":
        module = _host_module(task["family"], int(task["size"]))
        runs = []
        warmup = int(task.get("warmups", 1)) if task.get("warmup", True) else 0
        for attempt in range(warmup + int(task.get("repeats", 3))):
            result = _run(adapter, mode, module, task, INSTANTIATE_AGAIN)
            error = _failed(result)
            if error:
                return {"ok": False, "reason": error}
            if attempt < warmup:
                continue  # warm-up: page cache, allocator, lazy initialisation
            t0, _ = parse_guest_output(result.stdout)
            runs.append({"ttfi_ns": _ttfi(result, t0), "phases_ns": result.phases_ns,
                         "wall_ns": result.wall_ns, "peak_rss_bytes": result.peak_rss_bytes,
                         "artifact_bytes": result.artifact_bytes})
        return {"ok": True, "runs": runs, "module_bytes": len(module)}
    if kind == "probe":
        probe = PROBES[task["feature"]]
        result = _run(adapter, mode, probe.module(), task)
        if result.exit_code == PROBE_SUCCESS:
            return {"ok": True, "status": "supported", "detail": ""}
        detail = result.trap or (result.stderr.strip().splitlines() or [""])[-1]
        return {"ok": True, "status": "unsupported", "detail": f"exit {result.exit_code}: "
                f"{detail}"[:300]}
    if kind == "memory":
        # a runtime read by sampling its process needs a module that stays a moment
        by_process = _samples_peak_memory(adapter, mode)
        build = kernels.resident_module if by_process else kernels.instantiate_module
        module = build(int(task["pages"]), int(task["data_bytes"]))
        measure = getattr(adapter, "instance_memory", None)
        if measure is None:
            result = _run(adapter, mode, module, task)
            error = _failed(result)
            if error or result.peak_rss_bytes is None:
                return {"ok": False, "reason": error or "no peak RSS from this binding"}
            return {"ok": True, "first_instance_bytes": result.peak_rss_bytes,
                    "per_extra_instance_bytes": result.peak_rss_bytes,
                    "method": "peak RSS of one runtime process per instance"}
        if by_process:  # an instance per process
            return {"ok": True, **measure(mode, module, int(task.get("pairs", 5)))}
        return {"ok": True, **_in_fresh_process(mode, module,
                                                int(task.get("instances", LIVE_INSTANCES)),
                                                options or {})}
    if kind in ("verify", "verify-warm", "count"):
        return _verify_task(adapter, mode, task)
    return {"ok": False, "reason": f"unknown task kind {kind!r}"}


def _in_fresh_process(mode: Mode, module: bytes, instances: int,
                      options: dict[str, Any]) -> dict[str, Any]:
    """An in-process binding's memory figure, measured in a new Python process.

    Growth of the resident set shows an instance's memory only once the memory
    that earlier work freed is used up; this worker has compiled and run every
    kernel, so its allocators hold megabytes of it. A new process holds only
    what its engine needs, and the worker's own figures are left as they were.
    """
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_instance_memory, mode, module, instances, options).result()


def _instance_memory(mode: Mode, module: bytes, instances: int,
                     options: dict[str, Any]) -> dict[str, Any]:
    adapter = adapter_for(mode.runtime, options)
    measured: dict[str, Any] = adapter.instance_memory(mode, module, instances)  # type: ignore[attr-defined]
    return measured


def _run_record(result: RunResult) -> dict[str, Any]:
    return {"exit_code": result.exit_code, "trap": result.trap, "limit_hit": result.limit_hit,
            "wall_ns": result.wall_ns, "phases_ns": result.phases_ns,
            "peak_rss_bytes": result.peak_rss_bytes, "fuel": result.fuel_consumed}


def _verify_task(adapter: RuntimeAdapter, mode: Mode, task: dict[str, Any]) -> dict[str, Any]:
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
        if _failed(result, expect_exit) or result.fuel_consumed is None:
            return {"ok": False, "reason": _failed(result, expect_exit) or "no fuel count"}
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
    record: dict[str, Any] = {"ok": True, "cold": _run_record(cold), "output_tail": tail}
    if not _failed(cold, expect_exit):
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
    records: dict[str, Any] = {"warm": [_run_record(r) for r in warm]}
    if untimed:
        failed = next(filter(None, map(_failed, hollow_runs)), None)
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
    if _failed(result, expect_exit) or not result.globals:
        return {"mix_error": "its counting copy did not run: " + (
            _failed(result, expect_exit) or "no counts read")}
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
        if _failed(result):
            break
        runs.append(_run_record(result))
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
            if _failed(result):
                break
        if _failed(runs[-1], expect_exit):
            break
    return runs, hollow_runs


def _host_module(family: str, size: int) -> bytes:
    if family == "empty":
        return kernels.empty_module()
    if family == "code":
        return kernels.code_size_module(size)
    if family == "code-local":
        return kernels.code_size_module(size, tabled=False)
    if family == "code-run":
        return kernels.code_size_module(size, run_all=True)
    if family == "pages":
        return kernels.instantiate_module(size, 0)
    if family == "data":
        return kernels.instantiate_module(1, size)
    raise ValueError(f"unknown module family {family!r}")


def main(stdin: TextIO = sys.stdin) -> int:
    results = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # stray prints from engines go to stderr, not into the results
    job = json.loads(stdin.read())
    try:
        adapter = adapter_for(job["runtime"], job.get("options") or {})
        availability = adapter.availability()
    except Exception as e:  # e.g. a binding that cannot be imported here
        results.write(json.dumps({"id": "_hello", "ok": True, "modes": [], "availability": {
            "available": False, "reason": f"{type(e).__name__}: {e}"[:300]}}) + "\n")
        return 0
    modes = adapter.modes() if availability.available else []
    results.write(json.dumps({"id": "_hello", "ok": True, "modes": [asdict(m) for m in modes],
                              "availability": asdict(availability)}) + "\n")
    if job.get("mode") is None:
        return 0
    mode = adapter.mode(job["mode"])
    for task in job["tasks"]:
        try:
            outcome = run_task(adapter, mode, task, job.get("options") or {})
        except Exception as e:  # a measurement error, reported; the worker goes on
            outcome = {"ok": False, "reason": f"{type(e).__name__}: {e}"[:300]}
        results.write(json.dumps({"id": task["id"], **outcome}) + "\n")
    results.close()
    return 0


if __name__ == "__main__":
    status = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Leave without running engines' teardown: some (wasmer-sdk) can abort the
    # process at interpreter exit, after every result is already written.
    os._exit(status)
