"""``verify``: run the user's real module on every runtime/mode here, next to the prediction.

For each runtime/mode measured on this machine, a worker process runs:

1. the real module once from its bytes (a *cold* run: compile, instantiate, run);
2. the real module again from its compiled form, after one warm-up (*warm* runs:
   a serialized module for Wasmtime, the SDK's compile cache for Wasmer, the
   ``.aot`` artifact for WAMR AOT): at least ``repeats`` times, and more, up to
   25, while they fit in ``warm_budget_s`` (2 s), so that a short program's
   median is steady against the noise of starting a process or a sandbox; these are
   shared out over ``rounds`` (2) rounds, each in a worker of its own, taken in turn
   across the modes and in reversed order every other round, so that a drift in the
   machine's pace over the minutes a module's verification takes falls on every mode
   alike;
3. where the binding cannot time execution on its own, each warm run is paired
   with a warm run of the same module with ``_start`` emptied, taken in turn
   (a change in the machine's pace falls on both alike); then five runs of the
   calibration's empty module (the binding's start-up and teardown), each beside
   another run of the emptied module, started the same way.

Untrusted modules run under limits: a wall-time limit (Wasmtime: epoch
interruption for the cold run; the warm runs, once it has ended within the limit,
are timed without the epoch checks, which slowed fib2's execution by half, as the
calibration times its kernels, and the worker's own limit stays; Wasmer: the SDK's
timeout; iwasm: the process is killed), a
memory cap (Wasmtime: on linear memory; iwasm: the process is killed once its
resident memory passes the limit plus 32 MiB for iwasm itself), and the
worker's memory limit (its process tree is killed; the only cap for Wasmer,
whose SDK has none). A limit hit is reported, never a hang.

Phases measured, by binding: Wasmtime reports compile, load, instantiate and
run directly (compile from three compiles of the hollow copy alone, with the
mode's default engine, as calibrated: the runs use epoch interruption for the
time limit, which compiles slower); instantiate is the steady state, timed on
repeat instances right after the first one (a module's first instance also pays
the engine's one-off set-up, which the model counts per module load and the warm
total includes).
Through wasmer-sdk, compile is the cold run minus a warm run; through the iwasm
CLI, compile is ``wamrc`` (AOT). Through both, execution is a warm run minus a
warm run of the same module with ``_start`` emptied (:mod:`.hollow_module`),
which loads, instantiates, sets up WASI and tears down alike: for WAMR's
interpreters that removes loading and preparing the code, for its LLVM JIT what
it compiles before the first instruction. Through the iwasm CLI, that hollow run
minus a run of the empty module is what the module's code costs before its first
instruction: the *load* of the ``.aot`` artifact, or the interpreters' loading and
preparing and the LLVM JIT's compiling, reported as *compile*.
The number of instructions executed is counted with Wasmtime's fuel, so the
prediction uses the module's real work.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..calibration import PaceReading, pace_factors
from ..errors import AdvisorError
from ..harness import WorkerLimits, run_worker
from ..model import (
    ModeEvidence,
    WorkloadFeatures,
    block_scan_ns_per_op,
    human_ns,
    predict_costs,
)
from ._rounds import TASKS_MODULE, Rounds, _run_failure, run_spec, worker_memory
from ._summary import PHASES, TOLERANCE, not_run, order_verdict, phase_checks

if TYPE_CHECKING:
    import pandas as pd

    from ..profiles import Profile
    from ..workload import Workload

__all__ = ["PHASES", "ModeVerification", "VerifyReport", "predicted_phases",
           "run_verification"]


@dataclass
class ModeVerification:
    """One runtime/mode: what happened, measured and predicted phases, and the diagnosis."""

    key: str
    binding: str
    exit_code: int | None = None
    failure: str | None = None  # trap, limit hit, or a failed worker
    limit_hit: str | None = None
    measured_ns: dict[str, float] = field(default_factory=dict)
    predicted_ns: dict[str, float] = field(default_factory=dict)
    # twice the standard error of a measured phase's median (from the runs' median absolute
    # deviation), where it was taken over several runs: how far apart two modes must be
    # measured for the measurements, not their noise, to order them
    measured_spread_ns: dict[str, float] = field(default_factory=dict)
    wall_warm_ns: float | None = None
    warm_runs: int = 0  # over every round
    peak_rss_bytes: float | None = None
    diagnosis: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what could not be measured, and why

    def ratio(self, phase: str) -> float | None:
        """Predicted / measured for ``phase``, when both exist and are positive."""
        p, m = self.predicted_ns.get(phase), self.measured_ns.get(phase)
        return p / m if p and m and m > 0 else None


@dataclass
class VerifyReport:
    """Every runtime/mode's run of one module, with predictions and their errors."""

    workload: Workload
    instructions: int | None
    modes: list[ModeVerification]
    provenance: list[str]
    skipped: dict[str, str] = field(default_factory=dict)
    # from the counting copy: "mix" (instructions by class), "block_scan_ops" and
    # "block_scans" (WAMR's classic interpreter), "functions_ran" of "functions"
    counted: dict[str, Any] = field(default_factory=dict)
    # the machine's pace, read before each round of runs and after the last (pace.py), and
    # its ratio to the pace of the profile the predictions come from: the predictions of
    # the modes from that profile are scaled by it (None: not read, or nothing to compare
    # with)
    pace: list[PaceReading] = field(default_factory=list)
    pace_factors: dict[str, float] | None = None
    expect_exit: int = 0  # the exit status the program's correct result is

    @property
    def block_scan_ops(self) -> int | None:
        value = self.counted.get("block_scan_ops")
        return None if value is None else int(value)

    def rows(self) -> list[dict[str, Any]]:
        out = []
        for m in self.modes:
            row: dict[str, Any] = {"mode": m.key, "binding": m.binding, "exit": m.exit_code,
                                   "failure": m.failure, "limit_hit": m.limit_hit}
            for phase in PHASES:
                row[f"{phase}_measured_ms"] = _ms(m.measured_ns.get(phase))
                row[f"{phase}_predicted_ms"] = _ms(m.predicted_ns.get(phase))
                row[f"{phase}_ratio"] = m.ratio(phase)  # predicted ÷ measured
                ratio = m.ratio(phase)
                row[f"{phase}_measured_over_predicted"] = 1 / ratio if ratio else None
                row[f"{phase}_measured_spread_ms"] = _ms(m.measured_spread_ns.get(phase))
            row["wall_warm_ms"] = _ms(m.wall_warm_ns)
            row["warm_runs"] = m.warm_runs
            row["peak_rss_bytes"] = m.peak_rss_bytes
            row["diagnosis"] = "; ".join(m.diagnosis)
            row["notes"] = "; ".join(m.notes)
            out.append(row)
        return out

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.rows())

    def to_dict(self) -> dict[str, Any]:
        """Everything the report says, for JSON: the rows (``{phase}_ratio`` is predicted
        ÷ measured, kept for older readers), and the same as :meth:`explain` in a form
        whose direction cannot be misread: ``phases`` (``measured_over_predicted`` and the
        error in words), ``not_run`` (each mode that did not run, and why) and ``order``
        (whether the predicted order of the modes held; None with fewer than two)."""
        order = order_verdict(self)
        return {"instructions": self.instructions, "counted": self.counted,
                "expect_exit": self.expect_exit, "profiles": self.provenance,
                "modes": self.rows(), "skipped": self.skipped,
                "phases": [c.to_dict() for c in phase_checks(self)],
                "not_run": not_run(self), "order": order.to_dict() if order else None,
                "pace": [r.to_dict() for r in self.pace], "pace_factors": self.pace_factors}

    def header_lines(self) -> list[str]:
        """What was run and counted, the profiles predicted from, and the machine's pace."""
        lines = [f"Verified {self.workload.module.path}: "
                 + (f"{self.instructions:,} instructions per run (Wasmtime fuel)"
                    if self.instructions else "instructions not counted")]
        mix = self.counted.get("mix")
        if mix:
            total = sum(mix.values()) or 1
            shares = sorted(((n / total, cls) for cls, n in mix.items() if n), reverse=True)
            lines.append("  mix: " + ", ".join(f"{cls} {share:.0%}" for share, cls in shares
                                               if share >= 0.005)
                         + f"; {self.counted['functions_ran']} of "
                         f"{self.counted['functions']} functions ran")
            lines.append(f"  block ends WAMR's classic interpreter would scan for: "
                         f"{self.counted['block_scans']:,} scans over "
                         f"{self.counted['block_scan_ops']:,} instructions")
        lines.append("; ".join(self.provenance))
        if self.pace_factors:
            lines.append(_pace_line(self.pace_factors, len(self.pace)))
        return lines

    def explain(self) -> str:
        lines = self.header_lines()
        checks = phase_checks(self)
        for m in self.modes:
            if m.failure:
                continue
            lines.append(f"  {m.key} ({m.binding}):")
            for c in (c for c in checks if c.mode == m.key):
                assert c.measured_ns is not None
                lines.append(f"    {c.phase} {human_ns(c.measured_ns)}"
                             + (f", predicted {human_ns(c.predicted_ns)}: {c.said()}"
                                if c.predicted_ns else ""))
            lines += [f"    note: {n}" for n in m.notes]
            lines += [f"    → {d}" for d in m.diagnosis]
        for key, why in not_run(self).items():
            lines.append(f"  {key}: did not run: {why}")
        for key in ("instruction count", "instruction mix", "pace"):
            if key in self.skipped:
                lines.append(f"  {key}: {self.skipped[key]}")
        order = order_verdict(self)
        if order is not None:
            lines.append(f"  {order.said()}")
        return "\n".join(lines)


def _pace_line(factors: dict[str, float], readings: int) -> str:
    def said(factor: float) -> str:
        return (f"{factor:.2f}x slower" if factor >= 1.005 else
                f"{1 / factor:.2f}x faster" if factor <= 1 / 1.005 else "as fast")
    return (f"  the machine ran {said(factors['compile'])} at compiling and "
            f"{said(factors['execute'])} at executing than while the profile was made "
            f"({readings} pace readings); the predictions of the modes it measured are "
            "scaled by it")


def _ms(ns: float | None) -> float | None:
    return None if ns is None else ns / 1e6


def with_counted(features: WorkloadFeatures, counted: dict[str, Any]) -> WorkloadFeatures:
    """``features`` with what a module's counting copy counted (see
    :attr:`VerifyReport.counted`): its block-end scans, the code of the functions that
    ran, its SIMD instructions, and the compute kind its instruction mix shows."""
    if counted.get("block_scan_ops") is not None:
        features = features.with_value("block_scan_ops_per_request",
                                       float(counted["block_scan_ops"]))
    if counted.get("ran_code_bytes") is not None:
        features = replace(features, ran_code_bytes=float(counted["ran_code_bytes"]))
    mix = counted.get("mix")
    if mix is not None:
        features = features.with_value("simd_instructions_per_request",
                                       float(mix.get("simd", 0)))
        kind = compute_kind_of(mix)
        if kind is not None:
            features = replace(features, compute_kind=kind)
    return features


KIND_SHARE = 0.1  # a tenth of the instructions: enough to call the code float or call-heavy


def compute_kind_of(mix: dict[str, int]) -> str | None:
    """The compute kind a module's counted instruction mix shows: ``float`` where a tenth
    of its instructions are floating-point, ``call-heavy`` where a tenth are calls, else
    ``mixed``. None for a mix without those classes (an older saved count).

    A preset's kind is a guess about a module not yet seen; once its counting copy has
    run, what it executes decides (a parser with no floating-point instruction is not
    float compute, whatever the preset).
    """
    total = sum(mix.values())
    if not total or "float" not in mix or "call" not in mix:
        return None
    if mix["float"] >= KIND_SHARE * total:
        return "float"
    if mix["call"] + mix.get("call_indirect", 0) >= KIND_SHARE * total:
        return "call-heavy"
    return "mixed"


def _start_difference(empty_runs: list[dict[str, Any]], hollow_ns: float, empty_ns: float,
                      walls: list[float]) -> tuple[float, float]:
    """The hollow copy's start less the empty module's, and the noise it must stand out of.

    From the pairs run side by side: the median difference, and twice its standard
    error (from the differences' median absolute deviation, which one slow start
    does not sway). Records without pairs (saved before them) give the medians'
    difference and the empty runs' whole spread.
    """
    paired = [r["hollow_ns"] - r["wall_ns"] for r in empty_runs if "hollow_ns" in r]
    if not paired:
        return hollow_ns - empty_ns, max(walls) - min(walls)
    middle = statistics.median(paired)
    deviation = statistics.median(abs(d - middle) for d in paired)
    return middle, 2 * 1.4826 * deviation / math.sqrt(len(paired))


def _median(values: Sequence[float]) -> float | None:
    clean = [v for v in values if v is not None]
    return statistics.median(clean) if clean else None


def _spread(values: Sequence[float | None]) -> float | None:
    """Twice the standard error of the median of ``values``, from their median absolute
    deviation (which one slow run does not sway); None for fewer than two values."""
    clean = [v for v in values if v is not None]
    if len(clean) < 2:
        return None
    middle = statistics.median(clean)
    deviation = statistics.median(abs(v - middle) for v in clean)
    return 2 * 1.4826 * deviation / math.sqrt(len(clean))


def _diagnose(v: ModeVerification, kind: str, declared: dict[str, float],
              scan_ns: float = 0.0) -> list[str]:
    """What was mispredicted, for each phase more than :data:`TOLERANCE` off.

    ``scan_ns``: the part of the predicted execution that is block-end scans (WAMR's
    classic interpreter), named when it is a large part of a miss.
    """
    out = []
    for phase in PHASES:
        r = v.ratio(phase)
        if r is None or 1 / TOLERANCE <= r <= TOLERANCE:
            continue
        factor = 1 / r if r < 1 else r
        direction = "slower" if r < 1 else "faster"
        if phase == "execute":
            out.append(f"execution {factor:.1f}× {direction} than predicted: "
                       f"{_execution_blame(v, r, kind, declared, scan_ns)}")
        elif phase == "total":
            out.append(f"a whole run {factor:.1f}× {direction} than predicted (start-up, "
                       "loading or compiling, and execution together)")
        elif phase in ("compile", "load"):
            out.append(f"{phase} {factor:.1f}× {direction} than predicted: this module's code "
                       f"{'compiles' if phase == 'compile' else 'loads'} at a different rate "
                       "per byte than the calibration's code family")
        else:
            out.append(f"instantiation {factor:.1f}× {direction} than predicted: initial memory "
                       "or data segments cost differently than calibrated")
    return out


def _execution_blame(v: ModeVerification, r: float, kind: str, declared: dict[str, float],
                     scan_ns: float) -> str:
    """What a missed execution is put down to (``r``: measured over predicted), and what
    in the workload to revisit."""
    blame = (f"compute per instruction ({kind}) underestimated" if r < 1
             else f"compute per instruction ({kind}) overestimated")
    hints = []
    if r < 1 and not declared.get("touched"):
        hints.append("memory.touched_bytes_per_request is 0: if the module walks "
                     "memory, declare it")
    if r < 1 and not declared.get("host_calls"):
        hints.append("work.host_calls_per_request is 0: declare its host calls")
    predicted = v.predicted_ns.get("execute", 0.0)
    if predicted and scan_ns >= 0.25 * predicted:
        hints.append(f"{scan_ns / predicted:.0%} of the prediction is this engine's "
                     "scans for block ends, whose cost per instruction scanned "
                     "depends on the code scanned")
    hint = f" ({'; '.join(hints)})" if hints else \
        " (revisit work.compute_kind, memory.access_pattern)"
    return f"{blame}{hint}"


def _count_instructions(spec: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """The instructions a run (``spec``, :func:`.run_spec`) executes (Wasmtime fuel), and
    from a run of the module's counting copy (:mod:`.instruction_mix`) their mix and WAMR's
    classic interpreter's block-end scans; or why they could not be counted."""
    outcome = run_worker(
        {"runtime": "wasmtime", "mode": "cranelift", "tasks_modules": [TASKS_MODULE],
         "tasks": [{"id": "count", "kind": "count", **spec}]},
        WorkerLimits(task_timeout_s=2 * spec["timeout_s"] + 30,
                     memory_bytes=worker_memory(spec["memory_limit_bytes"])))
    record = outcome.results.get("count")
    if record is None:
        return None, outcome.failures.get("count", "the counting run failed")
    if not record.get("ok"):
        return None, str(record.get("reason"))
    return record, None


def run_verification(
    workload: Workload,
    evidence: list[ModeEvidence],
    provenance: list[str],
    *,
    argv: Sequence[str] = (),
    workdir: str | Path | None = None,
    env: Sequence[tuple[str, str]] = (),
    repeats: int = 3,
    warm_budget_s: float = 2.0,
    rounds: int = 2,
    timeout_s: float = 60.0,
    memory_limit_bytes: int = 2 << 30,
    modes: Sequence[str] | None = None,
    iwasm: Sequence[str] = (),
    wamrc: str | None = None,
    libiwasm: Sequence[str] = (),
    progress: Callable[[str, str], None] | None = None,
    pace_profile: Profile | None = None,
    expect_exit: int = 0,
    unavailable: dict[str, str] | None = None,
) -> VerifyReport:
    """Run ``workload``'s module on each measured runtime/mode and compare with predictions.

    ``repeats`` warm runs at least, and ``warm_budget_s`` per mode for more, are shared
    out over ``rounds`` rounds taken in turn across the modes (one worker process each),
    in reversed order every other round: a mode measured minutes after another is not
    then read at another pace of the machine. ``pace_profile``: a profile measured here
    with pace readings (:mod:`.calibration.pace`); the machine's pace is read before each
    round and after the last, and the predictions of the modes that profile measured are
    scaled by its ratio to the profile's, so that a change in the machine's pace since the
    calibration is not counted as the model's error (a mode from another profile, made at
    another time, is left unscaled). ``expect_exit``: the exit status the program's correct
    result is (a SAT solver's 20): a run ending with it is measured like any other, and one
    ending with another status is a failure that says which. ``unavailable``: the
    runtimes the profile has no figures for, with why (``Advisor.unavailable``), listed
    in the report as not run.
    """
    module_path = _module_to_run(workload, workdir, expect_exit)
    spec = run_spec(module_path, list(argv),
                    str(Path(workdir).resolve()) if workdir is not None else None,
                    [list(kv) for kv in env], timeout_s, memory_limit_bytes, expect_exit)
    counted, count_error = _count_instructions(spec)
    report = _counted_report(workload, provenance, counted, count_error, expect_exit)
    features = _counted_features(workload, report.instructions, counted or {})
    todo = _modes_to_run(report, evidence, modes, unavailable or {})
    # the modes whose predictions come from the profile the pace is compared with
    paced_modes = {e.coefficients.key for e in todo
                   if pace_profile is not None and e.provenance == pace_profile.provenance}
    runs = Rounds(todo, spec, {"iwasm": list(iwasm), "wamrc": wamrc, "libiwasm": list(libiwasm)},
                  report.skipped, report.pace, bool(paced_modes), progress,
                  repeats, warm_budget_s, rounds)
    runs.run_all()
    if paced_modes and runs.records:
        assert pace_profile is not None
        report.pace_factors = pace_factors(pace_profile, report.pace)
    _report_modes(report, runs, features, paced_modes, progress)
    return report


def _module_to_run(workload: Workload, workdir: str | Path | None, expect_exit: int) -> Path:
    """The path of ``workload``'s module, once it, the directory to give it and the exit
    status its correct result is are checked."""
    path = workload.module.path
    if path is None:
        raise AdvisorError("module.path: verify runs a real module; build the workload with "
                           "Workload.from_module(path) or give module.path")
    module_path = Path(path)
    if isinstance(expect_exit, bool) or not isinstance(expect_exit, int) or \
            not 0 <= expect_exit <= 255:
        raise AdvisorError(f"expect_exit: {expect_exit!r} is not an exit status; give a whole "
                           "number from 0 to 255")
    if not module_path.is_file():
        raise AdvisorError(f"{module_path}: no such module")
    if workdir is not None and not Path(workdir).is_dir():
        raise AdvisorError(f"{workdir}: the directory to give the module (--dir, workdir) "
                           "does not exist or is not a directory")
    return module_path


def _counted_report(workload: Workload, provenance: list[str], counted: dict[str, Any] | None,
                    count_error: str | None, expect_exit: int) -> VerifyReport:
    """A report with no mode yet: the instructions counted, what the counting copy
    counted, or why either could not be counted."""
    instructions = int(counted["fuel"]) if counted else None
    report = VerifyReport(workload, instructions, [], provenance, expect_exit=expect_exit)
    if count_error:
        report.skipped["instruction count"] = count_error
    elif counted is not None:
        report.counted = {k: v for k, v in counted.items() if k not in ("ok", "fuel")}
        if "mix_error" in counted:
            report.skipped["instruction mix"] = counted["mix_error"]
    return report


def _counted_features(workload: Workload, instructions: int | None,
                      counted: dict[str, Any]) -> WorkloadFeatures:
    """``workload``'s features, with the instructions a run executes and what the
    counting copy counted (:func:`with_counted`) in place of the declared ones."""
    features = WorkloadFeatures.from_workload(workload)
    if instructions is not None:
        features = features.with_value("compute_instructions_per_request", float(instructions))
    return with_counted(features, counted)


def _modes_to_run(report: VerifyReport, evidence: list[ModeEvidence],
                  modes: Sequence[str] | None, unavailable: dict[str, str]
                  ) -> list[ModeEvidence]:
    """The modes asked for (``modes``, runtimes or ``runtime:mode`` keys; all when none)
    that were measured here; those that cannot run go to ``report.skipped``, with why."""
    _skip_unprofiled(report.skipped, evidence, modes, unavailable)
    todo = []
    for e in evidence:
        key = e.coefficients.key
        if modes and key not in modes and e.coefficients.runtime not in modes:
            continue
        if not e.measured_here:
            report.skipped[key] = "measured elsewhere: it cannot be run here"
            continue
        todo.append(e)
    return todo


def _skip_unprofiled(skipped: dict[str, str], evidence: list[ModeEvidence],
                     modes: Sequence[str] | None, unavailable: dict[str, str]) -> None:
    """The runtimes the profile has no figures for (``unavailable``), and the modes asked
    for that it lacks, added to ``skipped`` with why."""
    for runtime, why in unavailable.items():
        if not modes or any(m.split(":")[0] == runtime for m in modes):
            skipped[runtime] = f"not in the profile: {why}"
    known = {e.coefficients.key for e in evidence} | {e.coefficients.runtime for e in evidence}
    for asked in modes or ():
        if asked not in known and asked.split(":")[0] not in skipped:
            skipped[asked] = ("not in the profile predicted from, whose modes are "
                                     + ", ".join(sorted(e.coefficients.key for e in evidence)))


def _report_modes(report: VerifyReport, runs: Rounds, features: WorkloadFeatures,
                  paced_modes: set[str], progress: Callable[[str, str], None] | None) -> None:
    """Each mode the rounds ran or failed, in their order, added to ``report`` (with its
    predictions scaled by the machine's pace where in ``paced_modes``) and said done."""
    for e in runs.todo:
        key = e.coefficients.key
        if key not in runs.records and key not in runs.failures:
            continue  # not available here
        v = _mode_verified(e, runs, features,
                           report.pace_factors if key in paced_modes else None)
        report.modes.append(v)
        if progress:
            progress(key, v.failure or "done")


def _mode_verified(e: ModeEvidence, runs: Rounds, features: WorkloadFeatures,
                   pace: dict[str, float] | None) -> ModeVerification:
    """One mode the rounds ran: why it could not run, or its measured phases from its record beside
    the predicted ones (scaled by the machine's ``pace``), and what was mispredicted."""
    key = e.coefficients.key
    v = ModeVerification(key=key, binding=e.coefficients.binding)
    if key in runs.failures:
        reason = runs.failures[key]
        v.failure = f"could not run: {reason}"
        v.limit_hit = "memory" if "memory limit" in str(reason) else (
            "time" if "timed out" in str(reason) else None)
        return v
    record = runs.records[key]
    _fill(v, record, compiles_as_it_runs=e.coefficients.jit and
          e.coefficients.binding == "iwasm CLI", expect_exit=runs.spec["expect_exit"])
    v.notes += record.get("round_notes", [])
    v.predicted_ns = predicted_phases(e, features, pace)
    if "load" not in v.measured_ns:
        v.predicted_ns.pop("load", None)
    if v.failure is None:
        scan = block_scan_ns_per_op(e.coefficients)
        declared = {"touched": features.touched_bytes_per_request,
                    "host_calls": features.host_calls_per_request}
        v.diagnosis = _diagnose(v, features.compute_kind, declared, (
            scan.value * features.block_scan_ops_per_request if scan else 0.0))
    return v


def predicted_phases(e: ModeEvidence, features: WorkloadFeatures,
                     pace: dict[str, float] | None = None) -> dict[str, float]:
    """What the model predicts for each phase ``verify`` measures, for one runtime/mode;
    ``pace``: the machine's pace against the profile's (:func:`.calibration.pace.pace_factors`),
    by which the start-up phases (``compile``) and execution (``execute``) are scaled."""
    starting, executing = (pace["compile"], pace["execute"]) if pace else (1.0, 1.0)
    prediction = predict_costs(e.coefficients, features)
    compile_part = prediction.phase_ns("compile")
    # what a run pays once per module beyond its compile or load, in no phase of its own:
    # the engine's set-up of the module at its first instance, and a lazy JIT's compiling
    # of the code that runs
    first_instance = sum(c.value for c in prediction.per_module_load if c.kind.phase is None)
    execute = prediction.phase_ns("execute")
    start = sum(c.value for c in prediction.per_instance)
    binding = e.coefficients.binding
    # a warm run loads the compiled module where the binding keeps one, else compiles;
    # either way it is the module's first instance in that engine
    keeps_artifact = binding == "wasmtime-py" or e.coefficients.precompiled_mode
    warm_load = _load_prediction(e, features)
    return {
        "compile": compile_part * starting,
        "load": (warm_load or prediction.phase_ns("load")) * starting,
        "instantiate": prediction.phase_ns("instantiate") * starting,
        "execute": execute * executing,
        "total": (start + first_instance + (
            warm_load if keeps_artifact else 0.0 if binding == "wasmer-sdk" else compile_part)
        ) * starting + execute * executing,
    }


def _load_prediction(e: ModeEvidence, features: WorkloadFeatures) -> float:
    """The predicted load of the precompiled artifact (0 where the mode has no such figure)."""
    warm = predict_costs(e.coefficients, replace(features, precompiled=True))
    return warm.phase_ns("load")


def _keep_spread(v: ModeVerification, phase: str, spread: float | None) -> None:
    if spread is not None:
        v.measured_spread_ns[phase] = spread


def _fill(v: ModeVerification, record: dict[str, Any], compiles_as_it_runs: bool = False,
          expect_exit: int = 0) -> None:
    """Measured phases from a verify record.

    ``compiles_as_it_runs``: WAMR's LLVM JIT compiles functions in background threads
    as they are first needed, so a run's time past the first instruction is compiling
    and executing together, and only the whole run is reported.
    """
    cold = record["cold"]
    v.exit_code = cold.get("exit_code")
    failure = _run_failure(cold, expect_exit)
    if failure is not None:
        v.limit_hit = cold.get("limit_hit")
        v.failure = failure
        return
    _fill_runs(v, record)
    if "run" in cold.get("phases_ns", {}):  # the binding reports the engine's phases
        _fill_engine_phases(v, record)
        return
    # execution: a warm run minus a warm run of the same module with _start emptied, which
    # loads, instantiates, sets up and tears down alike (iwasm interpreters: loading and
    # preparing the code; LLVM JIT: what it compiles before the first instruction)
    hollow = record.get("hollow")
    hollow_ns = _median([r["wall_ns"] for r in hollow]) if isinstance(hollow, list) else None
    _fill_compile(v, record, hollow_ns)
    if hollow_ns is not None and v.binding == "iwasm CLI":
        _fill_start(v, record, hollow_ns)
    _fill_execute(v, record, hollow_ns, compiles_as_it_runs)


def _fill_runs(v: ModeVerification, record: dict[str, Any]) -> None:
    """The whole runs: the warm ones' wall times, the peak memory of them all, and the
    median warm run as the measured total."""
    cold, warm = record["cold"], record.get("warm", [])
    v.wall_warm_ns = _median([r["wall_ns"] for r in warm])
    v.warm_runs = len(warm)
    v.peak_rss_bytes = max((r.get("peak_rss_bytes") or 0 for r in [cold, *warm]), default=0) \
        or None
    if v.wall_warm_ns is not None:
        v.measured_ns["total"] = v.wall_warm_ns
        _keep_spread(v, "total", _spread([r["wall_ns"] for r in warm]))


def _cold_compiles(record: dict[str, Any]) -> list[Any]:
    """The compile phase of the cold run and of the cold runs of the hollow copy beside it."""
    again = record.get("cold_hollow", [])
    return [record["cold"].get("phases_ns", {}).get("compile")] + [
        r.get("phases_ns", {}).get("compile") for r in again]


def _fill_engine_phases(v: ModeVerification, record: dict[str, Any]) -> None:
    """The phases a binding that reports the engine's own (wasmtime-py) timed."""
    phases = record["cold"].get("phases_ns", {})
    warm_phases = [r.get("phases_ns", {}) for r in record.get("warm", [])]
    # the hollow copy compiled alone, with the default engine (the runs use epoch
    # interruption, which compiles slower); records saved before that: all three
    alone = [r.get("phases_ns", {}).get("compile") for r in record.get("cold_hollow", [])
             if "run" not in r.get("phases_ns", {})]
    v.measured_ns["compile"] = _median(alone or _cold_compiles(record)) or 0.0
    load = _median([p.get("load") for p in warm_phases])
    if load is not None:
        v.measured_ns["load"] = load
    # the steady state (repeat instances), as the model's per-instance figure means
    v.measured_ns["instantiate"] = _median(
        [p.get("instantiate_again", p.get("instantiate")) for p in warm_phases]) \
        or phases.get("instantiate", 0.0)
    v.measured_ns["execute"] = _median([p.get("run") for p in warm_phases]) or phases["run"]
    _keep_spread(v, "execute", _spread([p.get("run") for p in warm_phases]))


def _fill_compile(v: ModeVerification, record: dict[str, Any], hollow_ns: float | None
                  ) -> None:
    """The compile of a mode timed from outside: an ahead-of-time compiler timed on its own
    (wamrc), or a cold run less a warm one where the warm run reads a cache (wasmer-sdk)."""
    cold = record["cold"]
    if "compile" in cold.get("phases_ns", {}):
        v.measured_ns["compile"] = _median(_cold_compiles(record)) or 0.0
    elif v.binding == "wasmer-sdk" and v.wall_warm_ns is not None:
        # the cache against none: a cold run less a warm one, of the module and of its copy
        cold_less_warm = [cold["wall_ns"] - v.wall_warm_ns]
        if hollow_ns is not None:
            cold_less_warm += [r["wall_ns"] - hollow_ns for r in record.get("cold_hollow", [])]
        v.measured_ns["compile"] = max(0.0, _median(cold_less_warm) or 0.0)


def _fill_start(v: ModeVerification, record: dict[str, Any], hollow_ns: float) -> None:
    """The hollow module against the empty one, both started the same way: what this
    module's code costs before its first instruction, when it stands out of the noise of
    the process start (the binding's whole run of the empty module: its start-up and its
    teardown, an iwasm process exiting, both of which the hollow copy's run pays too)."""
    walls = [r["wall_ns"] for r in record.get("empty", [])]
    empty = _median(walls)
    if empty is None:
        return
    before, noise = _start_difference(record["empty"], hollow_ns, empty, walls)
    phase = "load" if "compile" in record["cold"].get("phases_ns", {}) else "compile"
    if before > noise:
        v.measured_ns[phase] = before
    else:
        v.notes.append(f"{phase} not separated: {human_ns(max(0.0, before))}, within "
                       f"the {human_ns(noise)} noise of starting iwasm")


def _fill_execute(v: ModeVerification, record: dict[str, Any], hollow_ns: float | None,
                  compiles_as_it_runs: bool) -> None:
    """Execution: the median warm run less the median warm run of the hollow copy."""
    hollow = record.get("hollow")
    if compiles_as_it_runs and hollow_ns is not None:
        v.notes.append("execution not separated: this JIT compiles functions while the "
                       "program runs; the total is the whole run")
    elif v.wall_warm_ns is not None and hollow_ns is not None:
        v.measured_ns["execute"] = max(0.0, v.wall_warm_ns - hollow_ns)
        spreads = [_spread([r["wall_ns"] for r in record.get("warm", [])]),
                   _spread([r["wall_ns"] for r in hollow]) if isinstance(hollow, list) else None]
        if None not in spreads:
            _keep_spread(v, "execute", math.hypot(*(x or 0.0 for x in spreads)))
    elif isinstance(hollow, str):
        v.notes.append(f"execution not separated: {hollow}")
