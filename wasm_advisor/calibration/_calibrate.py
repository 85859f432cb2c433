"""``calibrate()``: measure every runtime and mode available here, one worker each.

The parent finds the runtimes (each in a short-lived worker, so no engine is
loaded here), then runs each mode's tasks in its own worker process, one mode
at a time so that measurements do not compete for the two cores and the
cache, and turns the results into a :class:`~wasm_advisor.profiles._profile.Profile`.
Nothing is saved until every mode has finished: Ctrl-C leaves no partial
profile behind, and the previous profile stays as it was. A calibration that
measured nothing at all (no runtime here, or every measurement failed) raises
:class:`~wasm_advisor.errors.MeasurementError` and saves nothing. A calibration
that saves holds its store's calibration lock from start to end, so a second
one for the same cache fails at once (:mod:`wasm_advisor.profiles._locks`).

While it measures, a thread samples the system (:mod:`.steadiness`); after the passes,
the modes the machine disturbed, and the families behind any figure outside its
physical bounds (:mod:`.bounds`), are measured again, within ``RETRY_BUDGET_S``, and
the verdict (steady, or unsteady and why) is saved in the profile and sent as the last
progress event. A figure still out of bounds is left out, recorded as "not measured".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import AdvisorError, MeasurementError
from ..harness import WorkerLimits, WorkerOutcome, run_worker
from ..profiles import (
    SHARED_FROM,
    STEADY_FAMILIES,
    FeatureResult,
    Figure,
    MeasurementFailure,
    ModeRecord,
    Profile,
    ProfileStore,
    RuntimeRecord,
    Steadiness,
    make_profile,
    out_of_bounds,
    tasks_behind,
    this_machine,
)
from ..runtimes import RUNTIMES, traits_for
from ..runtimes.base import Mode
from ._analysis import analyse_mode
from ._budgets import BUDGETS, SAME_CODE_TASKS, Budget, merge_guest, split_passes, tasks_for
from ._kernel_counts import (
    class_counts_per_iteration,
    instructions_per_iteration,
    scan_ops_per_iteration,
    simd_ops_per_iteration,
)
from ._notebook_progress import in_notebook, notebook_progress
from ._pace import PACE_MODE, PACE_RUNTIME, PaceReading, pace_figures, read_pace
from ._steadiness import AGREE_PAIRS, Assessment, Recheck, SystemSampler, assess
from ._task_value import task_value
from .tasks import TASKS_MODULE

__all__ = ["CalibrationProgress", "calibrate"]

DISCOVERY_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class CalibrationProgress:
    """One step of a calibration, for progress bars: what was just measured, and how far
    the whole calibration has come."""

    runtime: str
    mode: str
    task: str
    done: int  # tasks finished in this mode
    total: int  # tasks in this mode
    ok: bool
    overall_done: int = 0  # steps finished in the whole calibration (tasks and pace readings)
    overall_total: int = 0  # steps planned so far (re-measuring a disturbance adds some)
    elapsed_s: float = 0.0  # since the calibration started

    @property
    def remaining_s(self) -> float | None:
        """What is left, at the pace of the steps so far; None before there is a pace."""
        if self.overall_done <= 0 or self.overall_total <= 0:
            return None
        left = max(0, self.overall_total - self.overall_done)
        return self.elapsed_s * left / self.overall_done

    def line(self) -> str:
        """The event in one line, for a notebook or a log."""
        where = f"{self.runtime}:{self.mode}" if self.runtime != "machine" else self.mode
        text = f"{where}: {self.task}" + ("" if self.ok else " (failed)")
        if self.overall_total:
            text += f" · {self.overall_done}/{self.overall_total} steps"
        text += f" · {self.elapsed_s:.0f} s"
        remaining = self.remaining_s
        if remaining is not None and self.overall_done < self.overall_total:
            text += f", about {remaining:.0f} s left"
        return text


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
    after every task with a :class:`CalibrationProgress` (what was measured, how far the
    whole calibration has come, and about how long is left); in a Jupyter notebook, with
    no ``progress`` given, one line shows it, updated in place
    (:mod:`wasm_advisor.calibration._notebook_progress`); elsewhere nothing is printed.
    """
    if progress is None and in_notebook():
        progress = notebook_progress()
    if kind not in BUDGETS:
        raise AdvisorError(f"unknown calibration kind {kind!r}; use quick or full")
    wanted = list(runtimes) if runtimes else list(RUNTIMES)
    unknown = [r for r in wanted if r not in RUNTIMES]
    if unknown:
        raise AdvisorError(f"unknown runtime {unknown[0]!r}; choose from {', '.join(RUNTIMES)}")
    # the AOT artifacts of modules whose compile is not timed are kept between modes and
    # calibrations (runtimes/wamrc_artifacts.py)
    options: dict[str, Any] = {"iwasm": list(iwasm), "wamrc": wamrc,
                               "libiwasm": list(libiwasm), "keep_artifacts": True}
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


RETRY_BUDGET_S = {"quick": 20.0, "full": 60.0}  # re-measuring after a disturbance, at most
# rounds of re-measuring: the first may only sample the probe's flags (below), the next two
# measure again what is still disturbed
RETRY_ROUNDS = 3
# the speed probe's flags are judged first on this many of them, taken mode by mode, before
# every flagged measurement is measured again: twice the pairs the judgement needs, as some
# re-measurements land in another phase again. Where the flags prove to be the probe's
# jitter, the rest need no second measurement (a quick calibration here, idle, flagged 70
# measurements, and measuring them all again took about 20 s)
PROBE_SAMPLE = 2 * AGREE_PAIRS


@dataclass
class _Run:
    """What one calibration has read so far."""

    options: dict[str, Any]
    progress: Callable[[CalibrationProgress], None] | None
    sampler: SystemSampler
    results: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    failed: dict[str, dict[str, str]] = field(default_factory=dict)
    done: dict[str, int] = field(default_factory=dict)
    readings: list[PaceReading] = field(default_factory=list)
    pace_failures: list[MeasurementFailure] = field(default_factory=list)
    windows: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    # each measurement the speed probe flagged, measured again
    rechecked: list[Recheck] = field(default_factory=list)
    planned: int = 0  # steps planned in the whole calibration
    finished: int = 0  # steps finished

    def event(self, runtime: str, mode: str, task: str, done: int, total: int,
              ok: bool) -> None:
        """Count a finished step and tell the caller's progress callback."""
        self.finished += 1
        self.planned = max(self.planned, self.finished)
        if self.progress:
            self.progress(CalibrationProgress(runtime, mode, task, done, total, ok,
                                              self.finished, self.planned,
                                              round(self.sampler.now(), 3)))

    def read_pace(self, number: int, total: int) -> None:
        reading, why = read_pace(self.options, self.sampler.now())
        if reading is None:
            self.pace_failures.append(MeasurementFailure(
                runtime=PACE_RUNTIME, mode=PACE_MODE, task=f"pace ({number + 1})", reason=why))
        else:
            self.readings.append(reading)
        self.event("machine", "pace", f"pace reading {number + 1}", number + 1, total,
                   reading is not None)

    def run_mode(self, mode: Mode, tasks: list[dict[str, Any]], label: str, total: int,
                 timeout_s: float) -> WorkerOutcome:
        key = mode.key

        def on_result(task_id: str, result: dict[str, Any]) -> None:
            self.done[key] += 1
            self.event(mode.runtime, mode.name, label.format(task_id), self.done[key], total,
                       bool(result.get("ok")))

        start = self.sampler.now()
        outcome = run_worker({"runtime": mode.runtime, "mode": mode.name,
                              "options": self.options, "tasks_modules": [TASKS_MODULE],
                              "tasks": tasks},
                             WorkerLimits(task_timeout_s=timeout_s), on_result)
        self.windows.setdefault(key, []).append((start, self.sampler.now()))
        return outcome


Plans = list[tuple[Mode, list[dict[str, Any]]]]  # each mode and its tasks


def _plans(budget: Budget, wanted: list[str], modes: Sequence[str] | None,
           options: dict[str, Any]) -> tuple[list[RuntimeRecord], Plans, dict[str, str]]:
    """Every wanted runtime's record, the tasks of each of its modes that is asked for, and
    the modes whose same-code figures are another planned mode's (mode -> that mode)."""
    records: list[RuntimeRecord] = []
    plans: Plans = []
    working_set = _working_set_bytes()
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
    shared = _same_code(plans) if budget.share_same_code else {}
    plans = [(mode, [t for t in tasks if not t["id"].startswith(SAME_CODE_TASKS)]
              if mode.key in shared else tasks) for mode, tasks in plans]
    return records, plans, shared


def _same_code(plans: Plans) -> dict[str, str]:
    """The planned modes that run another planned mode's generated code unchanged
    (``same_code_as`` in the traits table), each with that mode."""
    keys = {mode.key for mode, _ in plans}
    out = {}
    for mode, _ in plans:
        traits = traits_for(mode.key)
        if traits is not None and traits.same_code_as in keys:
            out[mode.key] = traits.same_code_as
    return out


def _shared_figures(figures: list[Figure], shared: dict[str, str]) -> list[Figure]:
    """For each mode of ``shared``, the figures of the mode whose code it runs that it has
    none of, as its own, labelled with where they were measured (``shared_from``)."""
    out = []
    for key, source in shared.items():
        runtime, mode_name = key.split(":", 1)
        own = {f.metric for f in figures if f"{f.runtime}:{f.mode}" == key}
        for f in figures:
            if f"{f.runtime}:{f.mode}" == source and f.metric not in own:
                note = (f"measured on {source}, which generates the same code (this "
                        "calibration measured it once)" + (f"; {f.note}" if f.note else ""))
                out.append(f.model_copy(update={
                    "runtime": runtime, "mode": mode_name, "note": note,
                    "params": {**f.params, SHARED_FROM: source}}))
    return out


def _paced(plans: Plans) -> bool:
    """Whether the machine's pace is read: where Wasmtime's Cranelift is measured."""
    return any((m.runtime, m.name) == (PACE_RUNTIME, PACE_MODE) for m, _ in plans)


Rejected = list[tuple[str, list[tuple[Figure, str]]]]


@dataclass
class _Analysis:
    """The profile's figures, features and failures so far, and the figures out of bounds."""

    figures: list[Figure]
    features: list[FeatureResult]
    failures: list[MeasurementFailure]
    rejected: Rejected


def _measure(kind: str, wanted: list[str], modes: Sequence[str] | None,
             options: dict[str, Any], progress: Callable[[CalibrationProgress], None] | None
             ) -> Profile:
    budget = BUDGETS[kind]
    started = time.monotonic()
    records, plans, shared = _plans(budget, wanted, modes, options)
    with SystemSampler(started=started) as sampler:
        run = _Run(options, progress, sampler,
                   results={mode.key: {} for mode, _ in plans},
                   failed={mode.key: {} for mode, _ in plans},
                   done={mode.key: 0 for mode, _ in plans})
        run.planned += 1  # the verdict, the last step
        _passes(run, budget, plans)
        analysis = _analyse(plans, run)
        verdict = assess(system=sampler.samples, pace=run.readings,
                         figures=analysis.figures, windows=_flat(run.windows),
                         probes=_task_probes(run))
        slow_tasks = sum(len(t) for t in verdict.disturbed_tasks.values())
        analysis, verdict, remeasured = _measure_again(run, budget, plans, analysis, verdict,
                                                       time.monotonic() + RETRY_BUDGET_S[kind])
    analysis.failures += run.pace_failures
    _leave_out_rejected(analysis, remeasured)
    analysis.figures += _shared_figures(analysis.figures, shared)
    if not analysis.figures:
        raise MeasurementError(_nothing_measured(records, analysis.failures))
    steadiness = _steadiness(verdict, remeasured, len(sampler.samples), slow_tasks)
    run.event("machine", "verdict", steadiness.summary, 1, 1, steadiness.steady)
    return make_profile(
        kind=kind, duration_s=round(time.monotonic() - started, 3), runtimes=records,
        figures=analysis.figures + pace_figures(run.readings), features=analysis.features,
        failures=analysis.failures, steadiness=steadiness,
    )


def _measure_again(run: _Run, budget: Budget, plans: Plans, analysis: _Analysis,
                   verdict: Assessment, deadline: float
                   ) -> tuple[_Analysis, Assessment, list[str]]:
    """Up to ``RETRY_ROUNDS`` times, before ``deadline``: the disturbed modes and the
    families behind figures out of bounds measured again, and the whole analysed again.
    Returns the analysis, the verdict and the modes measured again."""
    remeasured: list[str] = []
    for number in range(RETRY_ROUNDS):
        affected = verdict.disturbed_modes | set(verdict.disturbed_tasks) \
            | {key for key, _ in analysis.rejected}
        if not affected or time.monotonic() >= deadline:
            break
        asked = replace(verdict, disturbed_tasks=_probe_sample(verdict.disturbed_tasks, plans)) \
            if number == 0 else verdict
        again = _remeasure(run, budget, plans, asked, analysis.rejected, _paced(plans),
                           deadline)
        if not again:
            break
        remeasured += [k for k in again if k not in remeasured]
        analysis = _analyse(plans, run)
        verdict = _reassess(run, analysis.figures, again, plans)
    return analysis, verdict, remeasured


def _probe_sample(flagged: dict[str, set[str]], plans: Plans) -> dict[str, set[str]]:
    """:data:`PROBE_SAMPLE` of the probe's flagged tasks, one mode after another in the
    plans' order (each mode's in order of task id), to judge the flags by before all of
    them are measured again; all of them where there are no more."""
    queues = {m.key: sorted(flagged[m.key]) for m, _ in plans if flagged.get(m.key)}
    depth = max((len(q) for q in queues.values()), default=0)
    turns = [(key, q[i]) for i in range(depth) for key, q in queues.items() if i < len(q)]
    if len(turns) <= PROBE_SAMPLE:
        return flagged
    out: dict[str, set[str]] = {}
    for key, task in turns[:PROBE_SAMPLE]:
        out.setdefault(key, set()).add(task)
    return out


def _leave_out_rejected(analysis: _Analysis, remeasured: list[str]) -> None:
    """A figure still out of bounds is not measured: a failure, with the reason."""
    for key, items in analysis.rejected:
        runtime, mode_name = key.split(":", 1)
        for figure, why in items:
            analysis.figures.remove(figure)
            analysis.failures.append(MeasurementFailure(
                runtime=runtime, mode=mode_name, task=f"figure {figure.metric}",
                reason=f"not measured: {why}"
                + (" (measured again, still out of bounds)" if key in remeasured else "")))


def _steadiness(verdict: Assessment, remeasured: list[str], system_samples: int,
                slow_tasks: int) -> Steadiness:
    return Steadiness(
        steady=verdict.steady, reasons=verdict.reasons, moved=verdict.moved,
        run_queue_per_core=_rounded(verdict.run_queue_per_core),
        steal_fraction=_rounded(verdict.steal_fraction),
        pace_drift=_rounded(verdict.pace_drift), remeasured=remeasured,
        system_samples=system_samples, slow_tasks=slow_tasks,
        slowest_phase=_rounded(verdict.slowest_phase), rechecked=verdict.rechecked,
        probe_agreement=_rounded(verdict.probe_agreement))


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _flat(windows: dict[str, list[tuple[float, float]]]) -> list[tuple[str, float, float]]:
    return [(key, a, b) for key, spans in windows.items() for a, b in spans]


def _passes(run: _Run, budget: Budget, plans: Plans) -> None:
    # every mode's tasks in a first pass; then its guest-timed kernels again in further
    # passes, the order of the modes reversed each pass, so that a drift in the machine's
    # pace falls on every mode's kernels alike, not on whichever mode ran then
    passes = {mode.key: split_passes(tasks, budget.passes) for mode, tasks in plans}
    # the machine's pace, read before the first mode, between passes and after the last
    # mode (where Wasmtime's Cranelift is measured): how far it moved while the profile
    # was made, and what verify compares its own readings with (pace.py)
    paced = _paced(plans)
    run.planned += sum(len(t) for each in passes.values() for t in each) + (
        budget.passes + 1 if paced else 0)
    for number in range(budget.passes):
        if paced:
            run.read_pace(number, budget.passes + 1)
        for mode, _ in plans if number % 2 == 0 else plans[::-1]:
            tasks = _pass_tasks(run, mode, passes[mode.key][number], number)
            total = run.done[mode.key] + len(tasks) + sum(
                len(later) for later in passes[mode.key][number + 1:])
            label = "{}" + (f" (pass {number + 1})" if number else "")
            outcome = run.run_mode(mode, tasks, label, total, budget.task_timeout_s)
            _keep_pass(run, mode, outcome, number)
    if paced:
        run.read_pace(budget.passes, budget.passes + 1)


def _pass_tasks(run: _Run, mode: Mode, tasks: list[dict[str, Any]], number: int
                ) -> list[dict[str, Any]]:
    """A pass's tasks for ``mode``: after the first, again only what the first measured."""
    if not number:
        return tasks
    kept = [t for t in tasks if run.results[mode.key].get(t["id"], {}).get("ok")]
    run.planned -= len(tasks) - len(kept)
    return kept


def _keep_pass(run: _Run, mode: Mode, outcome: WorkerOutcome, number: int) -> None:
    """A pass's results: the first pass's as they are, a later pass's samples added to the
    first's; failures named by their pass."""
    results, failed = run.results[mode.key], run.failed[mode.key]
    for task_id, result in outcome.results.items():
        if number == 0:
            results[task_id] = result
        elif result.get("ok"):
            results[task_id] = merge_guest(results[task_id], result)
        else:
            failed[_in_pass(task_id, number)] = str(result.get("reason", "failed"))
    for task_id, reason in outcome.failures.items():
        failed[_in_pass(task_id, number)] = reason


def _analyse(plans: Plans, run: _Run) -> _Analysis:
    analysis = _Analysis([], [], [], [])
    for mode, _ in plans:
        f, feats, fails = analyse_mode(mode, run.results[mode.key], run.failed[mode.key],
                                       instructions_per_iteration, scan_ops_per_iteration,
                                       simd_ops_per_iteration, class_counts_per_iteration)
        analysis.figures += f
        analysis.features += feats
        analysis.failures += fails
        bad = out_of_bounds(f)
        if bad:
            analysis.rejected.append((mode.key, bad))
    return analysis


def _task_probes(run: _Run) -> dict[str, dict[str, list[float]]]:
    """By mode and task, the speed probes read either side of the task's latest result
    (harness/_speed_probe.py)."""
    return {key: {task: [float(ns) for ns in result["speed_probe_ns"]]
                  for task, result in results.items()
                  if result.get("speed_probe_ns") and not _untimed(task)}
            for key, results in run.results.items()}


def _untimed(task_id: str) -> bool:
    """Whether a task times nothing (a feature probe; the memory figure, read in bytes):
    the machine's speed around it does not matter, and it is never measured again."""
    return task_id.startswith("probe:") or task_id == "memory"


def _remeasured_tasks(run: _Run, plans: Plans, verdict: Assessment, rejected: Rejected
                      ) -> Plans:
    """What to measure again, mode by mode in the reverse of the first pass's order: a
    disturbed mode's steady families, the tasks measured in another phase of the machine,
    and the families behind its figures out of bounds; never a probe, the memory figure,
    or a task that failed."""
    out_of = _families_out_of_bounds(plans, rejected)
    todo = []
    for mode, tasks in plans[::-1]:
        prefixes = out_of.get(mode.key, set()) \
            | (set(STEADY_FAMILIES) if mode.key in verdict.disturbed_modes else set())
        slow = verdict.disturbed_tasks.get(mode.key, set())
        chosen = [t for t in tasks if _measured_again(t, prefixes, slow,
                                                      run.results[mode.key])]
        if chosen:
            todo.append((mode, chosen))
    return todo


def _families_out_of_bounds(plans: Plans, rejected: Rejected) -> dict[str, set[str]]:
    """By mode, the tasks (ids or their prefixes) behind its figures out of bounds."""
    precompiled = {mode.key: mode.precompiled for mode, _ in plans}
    return {key: {p for f, _ in items for p in tasks_behind(f.metric, precompiled[key])}
            for key, items in rejected}


def _measured_again(task: dict[str, Any], prefixes: set[str], ids: set[str],
                    results: dict[str, dict[str, Any]]) -> bool:
    """Whether a task is one of ``prefixes``'s or ``ids``, and may run again: not a probe or
    the memory figure (neither is timed), and not failed the first time."""
    return not _untimed(task["id"]) \
        and (task["id"] in ids
             or any(task["id"] == p or task["id"].startswith(p) for p in prefixes)) \
        and results.get(task["id"], {}).get("ok", True)


def _remeasure(run: _Run, budget: Budget, plans: Plans, verdict: Assessment,
               rejected: Rejected, paced: bool, deadline: float) -> list[str]:
    """Measure the affected modes' disturbed families and tasks again, the modes one after
    another in the reverse of the first pass's order, between two pace readings; each
    task's new result replaces the first. Returns the modes measured again."""
    todo = _remeasured_tasks(run, plans, verdict, rejected)
    if not todo:
        return []
    # the pace is read again where whole modes are measured again (the machine drifted, or
    # was busy); a few tasks from another phase are judged by their own speed probes
    paced = paced and bool(verdict.disturbed_modes)
    number = len(run.readings) + len(run.pace_failures)
    run.planned += sum(len(tasks) for _, tasks in todo) + (2 if paced else 0)
    if paced:
        run.read_pace(number, number + 2)
    again = []
    for mode, tasks in todo:
        if time.monotonic() >= deadline:
            break
        total = run.done[mode.key] + len(tasks)
        outcome = run.run_mode(mode, tasks, "{} (again)", total, budget.task_timeout_s)
        flagged = verdict.disturbed_tasks.get(mode.key, set())
        for task_id, result in outcome.results.items():
            if result.get("ok"):
                if task_id in flagged:
                    _recheck(run, run.results[mode.key].get(task_id) or {}, result)
                run.results[mode.key][task_id] = result
        again.append(mode.key)
    if paced:
        run.read_pace(number + 1, number + 2)
    return again


def _recheck(run: _Run, first: dict[str, Any], again: dict[str, Any]) -> None:
    """A flagged measurement and its re-measurement, kept to judge the flags by."""
    before, after = task_value(first), task_value(again)
    if before is not None and after is not None:
        run.rechecked.append(Recheck(before, after, tuple(
            float(ns) for ns in again.get("speed_probe_ns") or ())))


def _reassess(run: _Run, figures: list[Figure], again: list[str], plans: Plans) -> Assessment:
    """The verdict on what the profile now holds: each mode's latest window, and the pace
    readings either side of the re-measurement where every mode was measured again."""
    latest = [(key, *spans[-1]) for key, spans in run.windows.items()]
    system = [s for s in run.sampler.samples
              if any(a <= s.at_s <= b for _, a, b in latest)]
    every = {m.key for m, _ in plans} <= set(again)
    pace = run.readings[-2:] if every else run.readings
    return assess(system=system, pace=pace, figures=figures, windows=latest,
                  probes=_task_probes(run), rechecked=run.rechecked)
