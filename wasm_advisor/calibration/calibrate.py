"""``calibrate()``: measure every runtime and mode available here, one worker each.

The parent finds the runtimes (each in a short-lived worker, so no engine is
loaded here), then runs each mode's tasks in its own worker process, one mode
at a time so that measurements do not compete for the two cores and the
cache, and turns the results into a :class:`~wasm_advisor.profile.Profile`.
Nothing is saved until every mode has finished: Ctrl-C leaves no partial
profile behind, and the previous profile stays as it was. A calibration that
measured nothing at all (no runtime here, or every measurement failed) raises
:class:`~wasm_advisor.errors.MeasurementError` and saves nothing. A calibration
that saves holds its store's calibration lock from start to end, so a second
one for the same cache fails at once (:mod:`wasm_advisor.store_locks`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import AdvisorError, MeasurementError
from ..machine import this_machine
from ..profile import (
    FeatureResult,
    Figure,
    MeasurementFailure,
    ModeRecord,
    Profile,
    ProfileStore,
    RuntimeRecord,
    make_profile,
)
from ..runtimes import RUNTIMES
from ..runtimes.base import Mode
from .analysis import analyse_mode
from .budgets import BUDGETS, merge_guest, split_passes, tasks_for
from .kernels import instructions_per_iteration, scan_ops_per_iteration, simd_ops_per_iteration
from .pace import PACE_MODE, PACE_RUNTIME, PaceReading, pace_figures, read_pace
from .runner import WorkerLimits, run_worker

__all__ = ["CalibrationProgress", "calibrate"]

DISCOVERY_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class CalibrationProgress:
    """One step of a calibration, for progress bars: what was just measured."""

    runtime: str
    mode: str
    task: str
    done: int  # tasks finished in this mode
    total: int  # tasks in this mode
    ok: bool


def _discover(name: str, options: dict[str, Any]) -> tuple[RuntimeRecord, list[Mode]]:
    outcome = run_worker({"runtime": name, "mode": None, "options": options, "tasks": []},
                         WorkerLimits(task_timeout_s=DISCOVERY_TIMEOUT_S))
    hello = outcome.hello
    if hello is None:
        reason = outcome.startup_error or "the runtime's worker did not answer"
        return RuntimeRecord(name=name, available=False, reason=reason), []
    availability = hello["availability"]
    modes = [Mode(**m) for m in hello.get("modes", [])]
    record = RuntimeRecord(
        name=name,
        available=bool(availability["available"]),
        version=availability.get("version", ""),
        reason=availability.get("reason", ""),
        details=availability.get("details", {}),
        modes=[ModeRecord(name=m.name, label=m.label, binding=m.binding, notes=m.notes,
                          jit=m.jit, precompiled=m.precompiled) for m in modes],
    )
    return record, modes if record.available else []


def _working_set_bytes() -> int:
    # Four times the last-level cache, so memory kernels measure memory, not cache.
    llc = this_machine().last_level_cache_bytes or (32 << 20)
    return int(min(max(4 * llc, 64 << 20), 512 << 20))


def calibrate(
    kind: str = "quick",
    *,
    runtimes: Sequence[str] | None = None,
    modes: Sequence[str] | None = None,
    iwasm: Sequence[str] = (),
    wamrc: str | None = None,
    libiwasm: Sequence[str] = (),
    progress: Callable[[CalibrationProgress], None] | None = None,
    store: ProfileStore | None = None,
    save: bool = True,
) -> Profile:
    """Measure the runtimes here and return (and by default save) a profile.

    ``kind`` is ``"quick"`` or ``"full"``; ``runtimes`` limits the runtimes
    (default: all), ``modes`` limits modes by name or ``runtime:mode``;
    ``iwasm``/``wamrc`` name WAMR executables (else ``$WASM_ADVISOR_IWASM``,
    ``$WASM_ADVISOR_WAMRC`` and ``PATH`` are searched); ``libiwasm`` names WAMR
    libraries to embed in-process (else ``$WASM_ADVISOR_LIBIWASM``, then beside
    ``iwasm``). ``progress`` is called
    after every task.
    """
    if kind not in BUDGETS:
        raise AdvisorError(f"unknown calibration kind {kind!r}; use quick or full")
    wanted = list(runtimes) if runtimes else list(RUNTIMES)
    unknown = [r for r in wanted if r not in RUNTIMES]
    if unknown:
        raise AdvisorError(f"unknown runtime {unknown[0]!r}; choose from {', '.join(RUNTIMES)}")
    options: dict[str, Any] = {"iwasm": list(iwasm), "wamrc": wamrc,
                               "libiwasm": list(libiwasm)}
    if not save:
        return _measure(kind, wanted, modes, options, progress)
    store = store or ProfileStore()
    with store.calibrating():  # a second calibration for this cache fails here, at once
        profile = _measure(kind, wanted, modes, options, progress)
        store.save(profile)
    return profile


def _nothing_measured(records: list[RuntimeRecord], failures: list[MeasurementFailure]) -> str:
    reasons = [f"{r.name}: {r.reason}" for r in records if not r.available]
    reasons += [f"{f.runtime}:{f.mode} {f.task}: {f.reason}" for f in failures[:3]]
    return ("the calibration measured nothing, so no profile was saved"
            + (" (" + "; ".join(reasons) + ")" if reasons else ""))


def _in_pass(task_id: str, number: int) -> str:
    """A task's name in progress and failures: a later pass's says which pass it is."""
    return task_id + (f" (pass {number + 1})" if number else "")


def _measure(kind: str, wanted: list[str], modes: Sequence[str] | None,
             options: dict[str, Any], progress: Callable[[CalibrationProgress], None] | None
             ) -> Profile:
    budget = BUDGETS[kind]
    started = time.monotonic()
    records: list[RuntimeRecord] = []
    figures: list[Figure] = []
    features: list[FeatureResult] = []
    failures: list[MeasurementFailure] = []
    working_set = _working_set_bytes()

    plans: list[tuple[Mode, list[dict[str, Any]]]] = []
    for name in wanted:
        record, found = _discover(name, options)
        records.append(record)
        plans += [(mode, tasks_for(budget, precompiled=mode.runtime == "wasmtime",
                                   ahead_of_time=mode.precompiled,
                                   slow_compile=mode.slow_compile,
                                   working_set_bytes=working_set, fast_load=mode.fast_load,
                                   lazy_compile=mode.lazy_compile))
                  for mode in found
                  if not modes or mode.name in modes or mode.key in modes]
    # every mode's tasks in a first pass; then its guest-timed kernels again in further
    # passes, the order of the modes reversed each pass, so that a drift in the machine's
    # pace falls on every mode's kernels alike, not on whichever mode ran then
    passes = {mode.key: split_passes(tasks, budget.passes) for mode, tasks in plans}
    # the machine's pace, read before the first mode, between passes and after the last
    # mode (where Wasmtime's Cranelift is measured): how far it moved while the profile
    # was made, and what verify compares its own readings with (pace.py)
    paced = any((m.runtime, m.name) == (PACE_RUNTIME, PACE_MODE) for m, _ in plans)
    readings: list[PaceReading] = []

    def read(number: int) -> None:
        reading, why = read_pace(options, time.monotonic() - started)
        if reading is None:
            failures.append(MeasurementFailure(runtime=PACE_RUNTIME, mode=PACE_MODE,
                                               task=f"pace ({number + 1})", reason=why))
        else:
            readings.append(reading)
        if progress:
            progress(CalibrationProgress("machine", "pace", f"pace reading {number + 1}",
                                         number + 1, budget.passes + 1, reading is not None))
    results: dict[str, dict[str, dict[str, Any]]] = {mode.key: {} for mode, _ in plans}
    failed: dict[str, dict[str, str]] = {mode.key: {} for mode, _ in plans}
    done = dict.fromkeys(results, 0)
    for number in range(budget.passes):
        if paced:
            read(number)
        for mode, _ in plans if number % 2 == 0 else plans[::-1]:
            tasks = passes[mode.key][number]
            if number:  # again only what the first pass measured
                tasks = [t for t in tasks if results[mode.key].get(t["id"], {}).get("ok")]
            total = done[mode.key] + len(tasks) + sum(
                len(later) for later in passes[mode.key][number + 1:])

            def on_result(task_id: str, result: dict[str, Any], mode: Mode = mode,
                          total: int = total, number: int = number) -> None:
                done[mode.key] += 1
                if progress:
                    progress(CalibrationProgress(
                        mode.runtime, mode.name,
                        _in_pass(task_id, number),
                        done[mode.key], total, bool(result.get("ok"))))

            outcome = run_worker(
                {"runtime": mode.runtime, "mode": mode.name, "options": options,
                 "tasks": tasks},
                WorkerLimits(task_timeout_s=budget.task_timeout_s), on_result,
            )
            for task_id, result in outcome.results.items():
                if number == 0:
                    results[mode.key][task_id] = result
                elif result.get("ok"):
                    results[mode.key][task_id] = merge_guest(results[mode.key][task_id], result)
                else:
                    failed[mode.key][_in_pass(task_id, number)] = str(
                        result.get("reason", "failed"))
            for task_id, reason in outcome.failures.items():
                failed[mode.key][_in_pass(task_id, number)] = reason
    if paced:
        read(budget.passes)
    for mode, _ in plans:
        f, feats, fails = analyse_mode(mode, results[mode.key], failed[mode.key],
                                       instructions_per_iteration, scan_ops_per_iteration,
                                       simd_ops_per_iteration)
        figures += f
        features += feats
        failures += fails

    if not figures:
        raise MeasurementError(_nothing_measured(records, failures))
    figures += pace_figures(readings)
    return make_profile(
        kind=kind, duration_s=round(time.monotonic() - started, 3), runtimes=records,
        figures=figures, features=features, failures=failures,
    )
